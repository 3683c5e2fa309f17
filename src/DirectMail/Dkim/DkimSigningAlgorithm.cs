using System;

namespace DirectMail.Dkim;

/// <summary>
/// A DKIM signing algorithm (<c>a=</c>) and the key type of its DNS record (<c>k=</c>): how its private keys are read
/// from PEM. <see cref="RsaSha256"/> is built in and the default; the package DirectMail.Dkim.Ed25519 adds
/// <c>ed25519-sha256</c> (RFC 8463). Give one to <see cref="DkimSignerOptions.UseAlgorithm"/>. Every key of a message's
/// domain signs it, all in the same pass over the message: the body hash is computed once per body canonicalisation
/// and shared by the RSA and the Ed25519 signature.
/// </summary>
public abstract class DkimSigningAlgorithm
{
    /// <summary>Describes an algorithm.</summary>
    /// <param name="name">The <c>a=</c> value, for example <c>ed25519-sha256</c>: lower-case letters, digits and '-'.</param>
    /// <param name="keyType">The <c>k=</c> value of its key records, for example <c>ed25519</c>.</param>
    protected DkimSigningAlgorithm(string name, string keyType)
    {
        Check(name, nameof(name));
        Check(keyType, nameof(keyType));
        Name = name;
        KeyType = keyType;
    }

    /// <summary><c>rsa-sha256</c> (RFC 6376, RFC 8301), the one every receiver verifies: PKCS#1 or PKCS#8 PEM, 1024 to 4096 bits.</summary>
    public static DkimSigningAlgorithm RsaSha256 { get; } = new RsaSha256Algorithm();

    /// <summary>The signature algorithm's name, written as <c>a=</c>.</summary>
    public string Name { get; }

    /// <summary>The key type of the public key record, <c>k=</c>.</summary>
    public string KeyType { get; }

    /// <summary>Reads a private key from PEM text and checks that this algorithm can sign with it.</summary>
    /// <param name="pem">The PEM text.</param>
    /// <returns>The key; the caller disposes it.</returns>
    /// <exception cref="DkimKeyException">The text is not a PEM private key of this algorithm's kind and size.</exception>
    public abstract DkimSigningKey ImportPrivateKey(string pem);

    /// <summary>The TXT record text that publishes a public key: <c>v=DKIM1; k=</c><see cref="KeyType"/><c>; p=</c> and the base64 of the key.</summary>
    /// <param name="publicKey">The public key as the record holds it (RSA: DER SubjectPublicKeyInfo; Ed25519: the 32 raw octets).</param>
    /// <returns>The record text, one string of any length (see <see cref="DkimKeyGenerator.ZoneFileRecord"/>).</returns>
    public string DnsRecord(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.IsEmpty)
        {
            throw new ArgumentException("The public key is empty.", nameof(publicKey));
        }

        return "v=DKIM1; k=" + KeyType + "; p=" + Convert.ToBase64String(publicKey);
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static void Check(string value, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameter);
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-')
            {
                throw new ArgumentException($"'{value}' is not a DKIM algorithm or key type name (lower-case letters, digits and '-').", parameter);
            }
        }
    }
}
