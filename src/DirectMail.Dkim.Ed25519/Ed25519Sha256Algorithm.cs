using System;
using System.Security.Cryptography;

namespace DirectMail.Dkim.Ed25519;

/// <summary><c>ed25519-sha256</c> (RFC 8463): Ed25519 private keys in PKCS#8 PEM, as <c>openssl genpkey -algorithm ed25519</c> writes them.</summary>
internal sealed class Ed25519Sha256Algorithm : DkimSigningAlgorithm
{
    public static readonly Ed25519Sha256Algorithm Instance = new();

    private Ed25519Sha256Algorithm()
        : base("ed25519-sha256", "ed25519")
    {
    }

    public override DkimSigningKey ImportPrivateKey(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var der = Pkcs8(pem);
        try
        {
            return new Ed25519SigningKey(this, Ed25519KeyInfo.ReadPrivateSeed(der));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>The 32 raw octets of the public key of an Ed25519 private key (PKCS#8) or public key (SubjectPublicKeyInfo) in PEM.</summary>
    public static byte[] PublicKey(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (PemEncoding.TryFind(pem, out var fields) && pem.AsSpan()[fields.Label].SequenceEqual("PUBLIC KEY"))
        {
            byte[] der;
            try
            {
                der = Convert.FromBase64String(pem[fields.Base64Data]);
            }
            catch (FormatException e)
            {
                throw new DkimKeyException("the public key cannot be read: the PEM's base64 is damaged.", DkimKeyProblem.Unreadable, e);
            }

            return Ed25519KeyInfo.ReadPublicKey(der);
        }

        using var signing = (Ed25519SigningKey)Instance.ImportPrivateKey(pem);
        return signing.PublicKey();
    }

    private static byte[] Pkcs8(string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new DkimKeyException("the private key is not PEM (-----BEGIN PRIVATE KEY-----, as openssl genpkey -algorithm ed25519 writes).", DkimKeyProblem.NotPem);
        }

        var label = pem.AsSpan()[fields.Label];
        if (label.SequenceEqual("RSA PRIVATE KEY"))
        {
            throw new DkimKeyException("the PEM holds an RSA private key, not an Ed25519 key: sign with it as rsa-sha256 (the default Algorithm).", DkimKeyProblem.WrongKind);
        }

        if (!label.SequenceEqual("PRIVATE KEY"))
        {
            throw new DkimKeyException($"the PEM holds '{label}', not an unencrypted PKCS#8 private key (PRIVATE KEY); encrypted keys are not supported.", DkimKeyProblem.NotPem);
        }

        try
        {
            return Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (FormatException e)
        {
            throw new DkimKeyException("the PEM's base64 is damaged.", DkimKeyProblem.Unreadable, e);
        }
    }
}
