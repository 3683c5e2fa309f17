using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DirectMail.Security.Dane;

namespace DirectMail.Tests.Security.Dane;

/// <summary>
/// Certificates made in the test (CertificateRequest, ECDSA P-256: quick to make) for DANE: a root CA, an intermediate,
/// leaves signed by either, self-signed ones, and the TLSA association data of any of them.
/// </summary>
internal static class DaneCertificates
{
    private static long _serial = DateTime.UtcNow.Ticks;

    /// <summary>A self-signed CA certificate with its key, valid from yesterday for a year.</summary>
    public static X509Certificate2 Root(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(365));
    }

    /// <summary>A CA certificate signed by <paramref name="issuer"/>, with its key.</summary>
    public static X509Certificate2 Intermediate(X509Certificate2 issuer, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var certificate = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(300), Serial());
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>A server certificate for <paramref name="dnsName"/> signed by <paramref name="issuer"/>, with its key.</summary>
    /// <param name="issuer">The CA that signs it.</param>
    /// <param name="dnsName">The subjectAltName dNSName (and CN).</param>
    /// <param name="notBefore">Default yesterday.</param>
    /// <param name="notAfter">Default in 30 days.</param>
    /// <param name="authorityKeyIdentifier">Name the issuer's key in the certificate (default); without it, chains are built by names alone.</param>
    public static X509Certificate2 Leaf(X509Certificate2 issuer, string dnsName, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, bool authorityKeyIdentifier = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = ServerRequest(dnsName, key);
        if (authorityKeyIdentifier)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        }

        using var certificate = request.Create(issuer, notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), Serial());
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>A self-signed server certificate for <paramref name="dnsName"/>, with its key.</summary>
    public static X509Certificate2 SelfSigned(string dnsName, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return ServerRequest(dnsName, key).CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>The association data of <paramref name="certificate"/> for a selector and matching type (RFC 6698 section 2.1).</summary>
    public static byte[] Data(X509Certificate2 certificate, byte selector, byte matchingType)
    {
        var content = selector == TlsaAssociation.FullCertificate ? certificate.RawData : certificate.PublicKey.ExportSubjectPublicKeyInfo();
        return matchingType switch
        {
            TlsaAssociation.Exact => content,
            TlsaAssociation.Sha256 => SHA256.HashData(content),
            TlsaAssociation.Sha512 => SHA512.HashData(content),
            _ => throw new ArgumentOutOfRangeException(nameof(matchingType)),
        };
    }

    /// <summary>A TLSA record naming <paramref name="certificate"/>.</summary>
    public static TlsaAssociation Association(byte usage, byte selector, byte matchingType, X509Certificate2 certificate) =>
        new(usage, selector, matchingType, Data(certificate, selector, matchingType));

    /// <summary>The record in zone-file form: <c>3 1 1 HEX</c>.</summary>
    public static string ZoneText(byte usage, byte selector, byte matchingType, X509Certificate2 certificate) =>
        Association(usage, selector, matchingType, certificate).ToString();

    private static CertificateRequest ServerRequest(string dnsName, ECDsa key)
    {
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return request;
    }

    private static byte[] Serial() => [0x01, .. BitConverter.GetBytes(System.Threading.Interlocked.Increment(ref _serial))]; // positive: a leading 0x01
}
