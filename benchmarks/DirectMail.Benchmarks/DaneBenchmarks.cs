using System;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using DirectMail.Dns;
using DirectMail.Security;
using DirectMail.Security.Dane;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Benchmarks;

/// <summary>
/// What DANE costs per delivery once its records are cached: the TLSA lookup answered from the cache, the verdict the
/// transport-security decision gets (with its per-delivery certificate check), and the certificate check itself in the
/// handshake (DANE-EE <c>3 1 1</c>; DANE-TA <c>2 1 1</c>, which builds a chain). The cache is filled by real queries: a
/// zone signed here by ldns-signzone, NSD on 127.0.55.101:10054, unbound validating on 127.0.55.153:10054 (the tests
/// use 10053); nothing leaves loopback.
/// </summary>
[MemoryDiagnoser]
public class DaneBenchmarks
{
    private const string Host = "mx.bench.dane.test";

    private static readonly IPEndPoint Authoritative = new(IPAddress.Parse("127.0.55.101"), 10054);
    private static readonly IPEndPoint Validating = new(IPAddress.Parse("127.0.55.153"), 10054);

    private DnssecZoneSigner? _signer;
    private NsdServer? _nsd;
    private UnboundServer? _unbound;
    private TlsaResolver _tlsa = null!;
    private DaneTlsaSource _source = null!;
    private MxTarget _target = null!;
    private TlsaLookup _eeLookup = null!;
    private TlsaLookup _taLookup = null!;
    private X509Certificate2 _ee = null!;
    private X509Certificate2 _taLeaf = null!;
    private X509Chain _taChain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ee = SelfSigned(Host);
        var root = Ca("Bench Root", null);
        var issuer = Ca("Bench Issuer", root);
        _taLeaf = Leaf(issuer, Host);
        _taChain = new X509Chain();
        _taChain.ChainPolicy.ExtraStore.Add(issuer);

        var eeRecord = new TlsaAssociation(3, 1, 1, SHA256.HashData(_ee.PublicKey.ExportSubjectPublicKeyInfo()));
        var taRecord = new TlsaAssociation(2, 1, 1, SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo()));
        _eeLookup = TlsaLookup.FromRecords(Host, "_25._tcp." + Host, [eeRecord]);
        _taLookup = TlsaLookup.FromRecords(Host, "_25._tcp." + Host, [taRecord]);

        _signer = new DnssecZoneSigner();
        var zone = _signer.Sign("bench.dane.test", $"""
            $ORIGIN bench.dane.test.
            $TTL 3600
            @ SOA ns.bench.dane.test. hostmaster.bench.dane.test. 1 3600 600 86400 3600
            @ NS ns
            ns A {Authoritative.Address}
            @ MX 10 mx
            mx A 192.0.2.25
            _25._tcp.mx TLSA {eeRecord}

            """);
        _nsd = new NsdServer(Authoritative, [new NsdZone("bench.dane.test", zone.SignedText)]);
        _unbound = new UnboundServer(Validating, [zone.DelegationSigner], [("bench.dane.test", Authoritative)], "bench.dane.test");

        var options = new MxResolverOptions { NameServers = [Validating], QueryTimeout = TimeSpan.FromSeconds(2), Retries = 0 };
        var resolution = new MxResolver(options).ResolveAsync("bench.dane.test").AsTask().GetAwaiter().GetResult();
        _target = resolution.IsSuccess && resolution.Targets[0].IsDnssecAuthenticated ? resolution.Targets[0] : throw new InvalidOperationException($"bench.dane.test did not resolve securely: {resolution}");
        _tlsa = new TlsaResolver(options, 25);
        _source = new DaneTlsaSource(_tlsa);
        var lookup = _tlsa.LookupAsync(_target).AsTask().GetAwaiter().GetResult();
        if (lookup.Status != TlsaLookupStatus.Usable)
        {
            throw new InvalidOperationException($"The TLSA lookup is not usable: {lookup}\n{_unbound.Output}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _unbound?.Dispose();
        _nsd?.Dispose();
        _signer?.Dispose();
    }

    /// <summary>The TLSA records of an MX host from the cache (every delivery after the first, within the TTL).</summary>
    [Benchmark(Baseline = true)]
    public object CachedTlsaLookup() => _tlsa.LookupAsync(_target).GetAwaiter().GetResult();

    /// <summary>The verdict the decision gets: the cached lookup and a fresh certificate check for this delivery.</summary>
    [Benchmark]
    public object? CachedVerdict() => _source.LookupAsync("bench.dane.test", _target, default).GetAwaiter().GetResult().Check;

    /// <summary>DANE-EE 3 1 1 in the handshake: the server key's SHA-256 compared (names and dates ignored).</summary>
    [Benchmark]
    public TlsFailureType? CheckDaneEe() => new DaneCertificateCheck(_eeLookup).Check(Host, _ee, null, SslPolicyErrors.None);

    /// <summary>DANE-TA 2 1 1 in the handshake: the anchor found in the presented chain, the chain to it built and checked, the name matched.</summary>
    [Benchmark]
    public TlsFailureType? CheckDaneTa() => new DaneCertificateCheck(_taLookup).Check(Host, _taLeaf, _taChain, SslPolicyErrors.RemoteCertificateChainErrors);

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Server(name, key).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Ca(string name, X509Certificate2? issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null)
        {
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(365));
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var certificate = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(300), [1, 2, 3, 4]);
        return certificate.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 Leaf(X509Certificate2 issuer, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = Server(name, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        return request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-12), DateTimeOffset.UtcNow.AddDays(30), [5, 6, 7, 8]);
    }

    private static CertificateRequest Server(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request;
    }
}
