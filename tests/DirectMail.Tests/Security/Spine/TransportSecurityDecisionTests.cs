using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Security;
using DirectMail.Security.MtaSts;

namespace DirectMail.Tests.Security.Spine;

/// <summary>The decision table: DANE usable &gt; MTA-STS enforce &gt; opportunistic (RFC 7672 section 2.2, RFC 8461 sections 4 and 5).</summary>
public sealed class TransportSecurityDecisionTests
{
    private const string Domain = "example.test";

    private static readonly MxResolution TwoHosts = MxResolution.FromTargets(Domain,
    [
        new MxTarget("mx1.example.test", 10, [new MxAddress(IPAddress.Parse("192.0.2.1"))]),
        new MxTarget("mx2.other.test", 20, [new MxAddress(IPAddress.Parse("192.0.2.2"))]),
    ]);

    private static MtaStsPolicy Policy(string mode) => MtaStsPolicy.Parse($"version: STSv1\nmode: {mode}\nmx: *.example.test\nmax_age: 86400\n", out _)!;

    [Fact]
    public async Task Without_sources_every_host_is_opportunistic()
    {
        var decision = await new TransportSecurityResolver(null, null, TrustAnchors.Platform).DecideAsync(Domain, TwoHosts, default);

        Assert.Same(TransportSecurityPolicy.None, decision.Policy);
        Assert.Same(TlsRequirement.Opportunistic, decision.Policy.For("mx1.example.test"));
    }

    [Fact]
    public async Task Enforce_requires_an_authenticated_session_at_matching_hosts_and_forbids_the_others()
    {
        var decision = await Resolver(Policy("enforce")).DecideAsync(Domain, TwoHosts, default);

        var matching = decision.Policy.For("mx1.example.test");
        Assert.Equal(TlsRequirementKind.AuthenticationRequired, matching.Kind);
        Assert.Equal(TlsPostureKind.MtaSts, matching.CertificateCheck!.PostureOnSuccess);
        Assert.Equal(TlsPolicyType.Sts, matching.PolicyType);
        Assert.Equal(Domain, matching.PolicyDomain);
        var other = decision.Policy.For("mx2.other.test");
        Assert.Equal(TlsRequirementKind.Unusable, other.Kind);
        Assert.Equal(TlsFailureType.StsPolicyInvalid, other.Failure);
    }

    [Fact]
    public async Task Testing_observes_the_check_without_requiring_TLS_and_flags_hosts_outside_the_policy()
    {
        var decision = await Resolver(Policy("testing")).DecideAsync(Domain, TwoHosts, default);

        var matching = decision.Policy.For("mx1.example.test");
        Assert.Equal(TlsRequirementKind.Opportunistic, matching.Kind);
        Assert.False(matching.RequiresTls);
        Assert.NotNull(matching.CertificateCheck);
        Assert.Null(matching.Failure);
        var other = decision.Policy.For("mx2.other.test");
        Assert.Equal(TlsRequirementKind.Opportunistic, other.Kind);
        Assert.Equal(TlsFailureType.StsPolicyInvalid, other.Failure);
    }

    [Fact]
    public async Task Mode_none_is_no_policy()
    {
        var decision = await Resolver(Policy("none")).DecideAsync(Domain, TwoHosts, default);

        Assert.Same(TransportSecurityPolicy.None, decision.Policy);
    }

    [Fact]
    public async Task A_cached_policy_decision_is_synchronous_and_shared()
    {
        var resolver = Resolver(Policy("enforce"));
        var first = resolver.DecideAsync(Domain, TwoHosts, default);
        var second = resolver.DecideAsync(Domain, TwoHosts, default);

        Assert.True(first.IsCompletedSuccessfully);
        Assert.Same((await first).Policy, (await second).Policy);
    }

    [Fact]
    public async Task A_policy_fetch_failure_is_handed_on_for_reporting()
    {
        var source = new FixedPolicy(new MtaStsLookup(null, TlsFailureType.StsWebPkiInvalid, "bad certificate"));
        var decision = await new TransportSecurityResolver(source, null, TrustAnchors.Platform).DecideAsync(Domain, TwoHosts, default);

        Assert.Equal(TlsFailureType.StsWebPkiInvalid, decision.PolicyFailure);
        Assert.Same(TransportSecurityPolicy.None, decision.Policy);
    }

    [Fact]
    public async Task Usable_DANE_takes_precedence_over_MTA_STS_even_outside_the_policy()
    {
        var check = new FakeCheck(TlsPostureKind.DaneEe);
        var dane = new FixedDane(new() { ["mx2.other.test"] = new DaneTlsaLookup(DaneTlsaStatus.Usable, check, null, null) });
        var decision = await new TransportSecurityResolver(new FixedPolicy(new MtaStsLookup(Policy("enforce"))), dane, TrustAnchors.Platform).DecideAsync(Domain, TwoHosts, default);

        var daneHost = decision.Policy.For("mx2.other.test");
        Assert.Equal(TlsRequirementKind.AuthenticationRequired, daneHost.Kind);
        Assert.Same(check, daneHost.CertificateCheck);
        Assert.True(daneHost.IsDane);
        Assert.Equal(TlsPostureKind.MtaSts, decision.Policy.For("mx1.example.test").CertificateCheck!.PostureOnSuccess);
    }

    [Fact]
    public async Task TLSA_present_but_unusable_requires_TLS_without_a_certificate_check()
    {
        var dane = new FixedDane(new() { ["mx1.example.test"] = new DaneTlsaLookup(DaneTlsaStatus.Unusable, null, null, null) });
        var decision = await new TransportSecurityResolver(null, dane, TrustAnchors.Platform).DecideAsync(Domain, TwoHosts, default);

        var host = decision.Policy.For("mx1.example.test");
        Assert.Equal(TlsRequirementKind.EncryptionRequired, host.Kind);
        Assert.True(host.RequiresTls);
        Assert.Null(host.CertificateCheck);
        Assert.Equal(TlsFailureType.DaneRequired, host.NoTlsFailure(offered: false));
        Assert.Same(TlsRequirement.Opportunistic, decision.Policy.For("mx2.other.test"));
    }

    [Fact]
    public async Task A_failed_TLSA_lookup_forbids_the_host_never_plaintext()
    {
        var dane = new FixedDane(new() { ["mx1.example.test"] = new DaneTlsaLookup(DaneTlsaStatus.Failed, null, null, "SERVFAIL") });
        var decision = await new TransportSecurityResolver(null, dane, TrustAnchors.Platform).DecideAsync(Domain, TwoHosts, default);

        var host = decision.Policy.For("mx1.example.test");
        Assert.Equal(TlsRequirementKind.Unusable, host.Kind);
        Assert.Equal(TlsFailureType.DnssecInvalid, host.Failure);
        Assert.Equal("SERVFAIL", host.Detail);
    }

    [Fact]
    public void Requirements_of_different_strength_never_share_pooled_sessions()
    {
        var check = new FakeCheck(TlsPostureKind.MtaSts);
        var classes = new HashSet<int>
        {
            TlsRequirement.Opportunistic.PoolClass,
            TlsRequirement.Observed(check, TlsPolicyType.Sts, Domain).PoolClass,
            TlsRequirement.Encrypted(TlsPolicyType.Tlsa, Domain).PoolClass,
            TlsRequirement.Authenticated(check, TlsPolicyType.Sts, Domain).PoolClass,
            TlsRequirement.Authenticated(new FakeCheck(TlsPostureKind.DaneEe), TlsPolicyType.Tlsa, Domain).PoolClass,
        };

        Assert.Equal(5, classes.Count);
    }

    private static TransportSecurityResolver Resolver(MtaStsPolicy policy) => new(new FixedPolicy(new MtaStsLookup(policy)), null, TrustAnchors.Platform);

    private sealed class FixedPolicy(MtaStsLookup lookup) : IMtaStsPolicySource
    {
        public ValueTask<MtaStsLookup> GetPolicyAsync(string domain, CancellationToken cancellationToken) => new(lookup);
    }

    private sealed class FixedDane(Dictionary<string, DaneTlsaLookup> hosts) : IDaneTlsaSource
    {
        public ValueTask<DaneTlsaLookup> LookupAsync(string domain, string mxHost, CancellationToken cancellationToken) =>
            new(hosts.TryGetValue(mxHost, out var lookup) ? lookup : DaneTlsaLookup.NotApplicable);
    }

    private sealed class FakeCheck(TlsPostureKind posture) : ITlsCertificateCheck
    {
        public TlsPostureKind PostureOnSuccess => posture;

        public TlsFailureType? Check(string mxHost, X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors) => null;
    }
}
