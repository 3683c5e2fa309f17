using System;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

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
        AsymmetricKeyParameter key;
        try
        {
            key = PrivateKeyFactory.CreateKey(der);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DkimKeyException($"the private key cannot be read as a PKCS#8 key: {e.Message}", DkimKeyProblem.Unreadable, e);
        }

        return key switch
        {
            Ed25519PrivateKeyParameters ed25519 => new Ed25519SigningKey(this, ed25519),
            RsaKeyParameters => throw new DkimKeyException("the PEM holds an RSA private key, not an Ed25519 key: sign with it as rsa-sha256 (the default Algorithm).", DkimKeyProblem.WrongKind),
            _ => throw new DkimKeyException($"the PEM holds {WithArticle(KindName(key))} private key, not an Ed25519 key (openssl genpkey -algorithm ed25519 makes one).", DkimKeyProblem.WrongKind),
        };
    }

    /// <summary>The 32 raw octets of the public key of an Ed25519 private key (PKCS#8) or public key (SubjectPublicKeyInfo) in PEM.</summary>
    public static byte[] PublicKey(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (PemEncoding.TryFind(pem, out var fields) && pem.AsSpan()[fields.Label].SequenceEqual("PUBLIC KEY"))
        {
            AsymmetricKeyParameter key;
            try
            {
                key = PublicKeyFactory.CreateKey(Convert.FromBase64String(pem[fields.Base64Data]));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new DkimKeyException($"the public key cannot be read: {e.Message}", DkimKeyProblem.Unreadable, e);
            }

            return key is Ed25519PublicKeyParameters ed25519
                ? ed25519.GetEncoded()
                : throw new DkimKeyException($"the PEM holds {WithArticle(KindName(key))} public key, not an Ed25519 key.", DkimKeyProblem.WrongKind);
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

    private static string WithArticle(string kind) => (kind[0] is 'E' or 'X' or 'R' ? "an " : "a ") + kind;

    private static string KindName(AsymmetricKeyParameter key) => key switch
    {
        ECKeyParameters => "EC",
        Ed448PrivateKeyParameters or Ed448PublicKeyParameters => "Ed448",
        X25519PrivateKeyParameters or X25519PublicKeyParameters => "X25519",
        X448PrivateKeyParameters or X448PublicKeyParameters => "X448",
        DsaKeyParameters => "DSA",
        RsaKeyParameters => "RSA",
        _ => key.GetType().Name.Replace("PrivateKeyParameters", string.Empty, StringComparison.Ordinal).Replace("KeyParameters", string.Empty, StringComparison.Ordinal),
    };
}
