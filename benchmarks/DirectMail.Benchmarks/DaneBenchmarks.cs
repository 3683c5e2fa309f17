using System;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using DirectMail.Dns;
using DirectMail.Security;
using DirectMail.Security.Dane;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Security.Dane;

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
        _ee = DaneCertificates.SelfSigned(Host);
        var issuer = DaneCertificates.Intermediate(DaneCertificates.Root("Bench Root"), "Bench Issuer");
        _taLeaf = DaneCertificates.Leaf(issuer, Host);
        _taChain = new X509Chain();
        _taChain.ChainPolicy.ExtraStore.Add(issuer);

        var eeRecord = DaneCertificates.Association(3, 1, 1, _ee);
        var taRecord = DaneCertificates.Association(2, 1, 1, issuer);
        _eeLookup = TlsaLookup.FromRecords(Host, "_25._tcp." + Host, [eeRecord]);
        _taLookup = TlsaLookup.FromRecords(Host, "_25._tcp." + Host, [taRecord]);

        _signer = new DnssecZoneSigner();
        var zone = _signer.Sign("bench.dane.test", new ZoneBuilder("bench.dane.test", ttl: 3600)
            .WithSoa("ns.bench.dane.test.", "hostmaster.bench.dane.test.", minimum: 3600)
            .WithNameServer(Authoritative.Address)
            .Mx("@", 10, "mx", IPAddress.Parse("192.0.2.25"))
            .Tlsa("_25._tcp.mx", 3, 1, 1, DaneCertificates.Data(_ee, 1, 1))
            .Text);
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
}
