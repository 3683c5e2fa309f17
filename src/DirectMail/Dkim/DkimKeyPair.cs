using System;

namespace DirectMail.Dkim;

/// <summary>A new DKIM key: the private key to configure, and the DNS TXT record that publishes its public key.</summary>
public sealed class DkimKeyPair
{
    /// <summary>Describes a new key.</summary>
    /// <param name="algorithm">The algorithm the key signs with.</param>
    /// <param name="privateKeyPem">The private key, PEM.</param>
    /// <param name="publicKey">The public key as the DNS record holds it (<c>p=</c>).</param>
    public DkimKeyPair(DkimSigningAlgorithm algorithm, string privateKeyPem, byte[] publicKey)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentException.ThrowIfNullOrEmpty(privateKeyPem);
        ArgumentNullException.ThrowIfNull(publicKey);
        Algorithm = algorithm;
        PrivateKeyPem = privateKeyPem;
        PublicKey = publicKey;
        DnsRecord = algorithm.DnsRecord(publicKey);
    }

    /// <summary>The algorithm the key signs with.</summary>
    public DkimSigningAlgorithm Algorithm { get; }

    /// <summary>The private key, PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>): keep it secret, give it to <see cref="DkimSignerOptions.PrivateKey"/> or save it for <see cref="DkimSignerOptions.PrivateKeyFile"/>.</summary>
    public string PrivateKeyPem { get; }

    /// <summary>The public key as the DNS record holds it: RSA, DER SubjectPublicKeyInfo; Ed25519, the 32 raw octets.</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>The TXT record text to publish at <c>selector._domainkey.domain</c>: <c>v=DKIM1; k=rsa; p=...</c> (or <c>k=ed25519</c>).</summary>
    public string DnsRecord { get; }
}
