using System;
using System.Security.Cryptography;
using Sodium;

namespace DirectMail.Dkim.Ed25519;

/// <summary>
/// <c>ed25519-sha256</c> DKIM signing (RFC 8463) for DirectMail: the algorithm to give a key's options
/// (<see cref="DkimSignerOptions.UseAlgorithm"/>), key generation and the DNS record (<c>k=ed25519; p=</c> the base64 of
/// the 32-octet public key). Give a domain an Ed25519 key beside its RSA key: both sign each message in one pass.
/// </summary>
/// <remarks>
/// An Ed25519 key alone is allowed but not advised: Gmail, Outlook and Yahoo verify only <c>rsa-sha256</c>, and a
/// signature they cannot verify counts as none for DMARC there.
/// </remarks>
public static class DkimEd25519
{
    /// <summary>The <c>a=</c> name, <c>ed25519-sha256</c>.</summary>
    public const string AlgorithmName = "ed25519-sha256";

    /// <summary><c>ed25519-sha256</c>: reads PKCS#8 Ed25519 private keys (<c>-----BEGIN PRIVATE KEY-----</c>).</summary>
    public static DkimSigningAlgorithm Algorithm => Ed25519Sha256Algorithm.Instance;

    /// <summary>Generates an Ed25519 key.</summary>
    /// <returns>The private key as PKCS#8 PEM, its 32-octet public key and the DNS record text.</returns>
    public static DkimKeyPair GenerateKey()
    {
        var pair = PublicKeyAuth.GenerateKeyPair();
        var seed = PublicKeyAuth.ExtractEd25519SeedFromEd25519SecretKey(pair.PrivateKey);
        var der = Ed25519KeyInfo.WritePrivateKey(seed);
        try
        {
            var pem = new string(PemEncoding.Write("PRIVATE KEY", der)) + "\n";
            return new DkimKeyPair(Algorithm, pem, pair.PublicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(pair.PrivateKey);
        }
    }

    /// <summary>The public key, 32 raw octets, of an Ed25519 key in PEM: private (PKCS#8) or public (SubjectPublicKeyInfo).</summary>
    /// <param name="pem">The key.</param>
    /// <returns>The octets that the record's <c>p=</c> holds in base64.</returns>
    /// <exception cref="DkimKeyException">The PEM holds no Ed25519 key.</exception>
    public static byte[] PublicKey(string pem) => Ed25519Sha256Algorithm.PublicKey(pem);

    /// <summary>The TXT record text that publishes an Ed25519 key given in PEM: <c>v=DKIM1; k=ed25519; p=...</c>.</summary>
    /// <param name="pem">The key, private or public.</param>
    /// <returns>The record text.</returns>
    /// <exception cref="DkimKeyException">The PEM holds no Ed25519 key.</exception>
    public static string DnsRecordForKey(string pem) => Algorithm.DnsRecord(PublicKey(pem));

    /// <summary>Options for an Ed25519 key of a domain and selector, from PEM text.</summary>
    /// <param name="domain">The signing domain (<c>d=</c>).</param>
    /// <param name="selector">The selector (<c>s=</c>).</param>
    /// <param name="privateKeyPem">The PKCS#8 PEM private key.</param>
    /// <returns>The options, with the other settings at their defaults.</returns>
    public static DkimSignerOptions Options(string domain, string selector, string privateKeyPem)
        => new DkimSignerOptions { Domain = domain, Selector = selector, PrivateKey = privateKeyPem }.UseAlgorithm(Algorithm);
}
