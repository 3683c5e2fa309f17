using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DirectMail.Tests.Infrastructure;

/// <summary>Self-signed certificates made in memory for the TLS tests.</summary>
public static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> MxTest = new(() => Create("mx.test"));

    /// <summary>A self-signed certificate for <c>mx.test</c>, made once per test run.</summary>
    public static X509Certificate2 SelfSigned => MxTest.Value;

    public static X509Certificate2 Create(string dnsName)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
