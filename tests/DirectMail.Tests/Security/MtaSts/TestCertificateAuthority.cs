using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>
/// A certificate authority made in memory for the transport-security tests: a root, and server certificates it issues
/// for given host names. Its certificate is written as PEM to a temporary file, the mailer's <c>TrustAnchorFile</c>.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _root;
    private readonly RSA _rootKey;
    private readonly string _directory;

    public TestCertificateAuthority(string name = "DirectMail Test CA")
    {
        _rootKey = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", _rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddYears(1));
        _directory = Directory.CreateTempSubdirectory("directmail-ca-").FullName;
        PemFile = Path.Combine(_directory, "ca.pem");
        File.WriteAllText(PemFile, _root.ExportCertificatePem());
    }

    /// <summary>The CA certificate as PEM, for <c>DirectMailOptions.TrustAnchorFile</c>.</summary>
    public string PemFile { get; }

    public X509Certificate2 Root => _root;

    /// <summary>
    /// A server certificate (with its key) for <paramref name="dnsName"/>, issued by this CA, valid from
    /// <paramref name="notBefore"/> (default a day ago) to <paramref name="notAfter"/> (default in 30 days): an expired or
    /// a not yet valid one when the test says so.
    /// </summary>
    public X509Certificate2 Issue(string dnsName, DateTimeOffset? notAfter = null, DateTimeOffset? notBefore = null) => Issue(dnsName, san => san.AddDnsName(dnsName), notAfter, notBefore);

    /// <summary>A server certificate (with its key) for the IP address <paramref name="address"/> (an iPAddress name), issued by this CA.</summary>
    public X509Certificate2 IssueForAddress(System.Net.IPAddress address) => Issue(address.ToString(), san => san.AddIpAddress(address), null, null);

    private X509Certificate2 Issue(string commonName, Action<SubjectAlternativeNameBuilder> names, DateTimeOffset? notAfter, DateTimeOffset? notBefore)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, true, false));
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        var start = notBefore ?? DateTimeOffset.UtcNow.AddDays(-1);
        var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var certificate = request.Create(_root, start, end, serial);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }

    public void Dispose()
    {
        _root.Dispose();
        _rootKey.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
