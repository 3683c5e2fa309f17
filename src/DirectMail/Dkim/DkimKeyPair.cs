using System;

namespace DirectMail.Dkim;

/// <summary>A new DKIM key: the private key to configure, and the DNS TXT record that publishes its public key.</summary>
public sealed class DkimKeyPair
{
    internal DkimKeyPair(string privateKeyPem, byte[] publicKey)
    {
        PrivateKeyPem = privateKeyPem;
        PublicKey = publicKey;
        DnsRecord = DkimKeyGenerator.DnsRecord(publicKey);
    }

    /// <summary>The private key, PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>): keep it secret, give it to <see cref="DkimSignerOptions.PrivateKey"/> or save it for <see cref="DkimSignerOptions.PrivateKeyFile"/>.</summary>
    public string PrivateKeyPem { get; }

    /// <summary>The public key, DER SubjectPublicKeyInfo.</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>The TXT record text to publish at <c>selector._domainkey.domain</c>: <c>v=DKIM1; k=rsa; p=...</c>.</summary>
    public string DnsRecord { get; }
}
