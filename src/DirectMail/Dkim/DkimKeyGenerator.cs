using System;
using System.Security.Cryptography;
using System.Text;

namespace DirectMail.Dkim;

/// <summary>Makes DKIM keys and the DNS records that publish them (RFC 6376 section 3.6.1).</summary>
public static class DkimKeyGenerator
{
    /// <summary>Generates an RSA key for <c>rsa-sha256</c>.</summary>
    /// <param name="bits">1024 to 4096; default 2048, what RFC 8301 and the large receivers recommend. 4096-bit records need several strings in one TXT record (see <see cref="ZoneFileRecord"/>), which some DNS hosting panels handle badly.</param>
    /// <returns>The private key PEM and the DNS record.</returns>
    public static DkimKeyPair Generate(int bits = 2048)
    {
        if (bits is < 1024 or > 4096 || bits % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "DKIM RSA keys have 1024 to 4096 bits, a multiple of 8 (2048 recommended).");
        }

        using var rsa = RSA.Create(bits);
        return new DkimKeyPair(DkimSigningAlgorithm.RsaSha256, rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The TXT record text for a public key: <c>v=DKIM1; k=rsa; p=</c> and the base64 of the key.</summary>
    /// <param name="publicKey">The RSA public key, DER SubjectPublicKeyInfo.</param>
    /// <returns>The record text, one string of any length (split it with <see cref="ZoneFileRecord"/> for a zone file).</returns>
    public static string DnsRecord(ReadOnlySpan<byte> publicKey) => DkimSigningAlgorithm.RsaSha256.DnsRecord(publicKey);

    /// <summary>The TXT record text for the public half of a private key (or of a public key) in PEM: what must be published for it.</summary>
    /// <param name="pem">An RSA key in PEM: private (PKCS#1 or PKCS#8) or public (SubjectPublicKeyInfo or PKCS#1).</param>
    /// <returns>The record text.</returns>
    /// <exception cref="ArgumentException">The PEM holds no RSA key.</exception>
    public static string DnsRecordForKey(string pem)
    {
        ArgumentException.ThrowIfNullOrEmpty(pem);
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new ArgumentException("The PEM holds no RSA key: " + e.Message, nameof(pem), e);
        }

        return DnsRecord(rsa.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The name the record is published at: <c>{selector}._domainkey.{domain}</c>.</summary>
    /// <param name="selector">The selector.</param>
    /// <param name="domain">The signing domain.</param>
    /// <returns>The owner name, without a final dot.</returns>
    /// <exception cref="ArgumentException">The selector is not DNS labels (named <c>selector</c>), or the domain is not a domain name (named <c>domain</c>).</exception>
    public static string DnsRecordName(string selector, string domain)
    {
        ArgumentException.ThrowIfNullOrEmpty(selector);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        if (!IsDnsLabels(selector))
        {
            throw new ArgumentException($"'{selector}' is not a selector: one or more DNS labels (letters, digits, '-', '_', separated by '.').", nameof(selector));
        }

        var normalized = DkimSigner.NormalizeDomain(domain);
        if (!IsDnsLabels(normalized))
        {
            throw new ArgumentException($"'{domain}' is not a domain name.", nameof(domain));
        }

        return selector.ToLowerInvariant() + "._domainkey." + normalized;
    }

    /// <summary>True for one or more DNS labels of letters, digits, '-' and '_' (selectors may use '_'), each 1 to 63 long.</summary>
    internal static bool IsDnsLabels(string value)
    {
        foreach (var label in value.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// The record as a zone-file line, the text split into quoted strings of at most 255 octets (one TXT record may hold
    /// several; receivers join them): <c>sel._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; " "p=..." )</c>.
    /// </summary>
    /// <param name="selector">The selector.</param>
    /// <param name="domain">The signing domain.</param>
    /// <param name="record">The text from <see cref="DnsRecord"/>.</param>
    /// <param name="ttl">The time to live in seconds; default 3600.</param>
    /// <returns>The zone-file line.</returns>
    public static string ZoneFileRecord(string selector, string domain, string record, int ttl = 3600)
    {
        ArgumentException.ThrowIfNullOrEmpty(record);
        var builder = new StringBuilder();
        builder.Append(DnsRecordName(selector, domain)).Append(". ").Append(ttl).Append(" IN TXT (");
        for (var i = 0; i < record.Length; i += 255)
        {
            builder.Append(" \"").Append(record, i, Math.Min(255, record.Length - i)).Append('"');
        }

        return builder.Append(" )").ToString();
    }
}
