using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Security.Dane;
using DirectMail.Tests.Dns;
using DirectMail.Tests.Infrastructure;
using DnsClient;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Security.Dane;

/// <summary>
/// The DNSSEC status of MX resolutions and the TLSA lookups of RFC 7672 section 2.2, through unbound validating the
/// signed test zones (and NSD directly, which never validates): the AD bit believed only from a validating resolver,
/// secure, insecure and bogus answers, a CNAME'd MX host, a TLSA lookup that fails.
/// </summary>
[Collection(DaneDnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DnssecResolutionTests(DaneDnsFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public void The_test_resolver_validates_the_signed_zone_and_refuses_the_tampered_record()
    {
        // The setup itself: without these, every test below could pass for the wrong reason.
        var client = new LookupClient(new LookupClientOptions(DaneDnsFixture.ValidatingEndPoint) { UseCache = false, RequestDnsSecRecords = true, ThrowDnsErrors = false, Timeout = TimeSpan.FromSeconds(2) });

        var secure = client.Query("_25._tcp.mx-ee.dane.test", QueryType.TLSA);
        Assert.Equal((DnsHeaderResponseCode.NoError, true), (secure.Header.ResponseCode, secure.Header.IsAuthenticData));

        var bogus = client.Query("_25._tcp.mx-bogus.dane.test", QueryType.TLSA);
        Assert.Equal(DnsHeaderResponseCode.ServerFailure, bogus.Header.ResponseCode);
        Assert.Contains("_25._tcp.mx-bogus.dane.test", fixture.ResolverOutput); // unbound says why: the signature
        Assert.Matches(@"^dane\.test\.\s+\d+\s+IN\s+DS\s+\d+ 13 2 [0-9a-f]{64}$", fixture.TrustAnchor);

        var insecure = client.Query("mx.insecure.dane.test", QueryType.A);
        Assert.Equal((DnsHeaderResponseCode.NoError, false), (insecure.Header.ResponseCode, insecure.Header.IsAuthenticData));
        Assert.Single(insecure.Answers.ARecords());

        var authoritative = new LookupClient(new LookupClientOptions(DaneDnsFixture.AuthoritativeEndPoint) { UseCache = false, RequestDnsSecRecords = true, Timeout = TimeSpan.FromSeconds(2) });
        var unvalidated = authoritative.Query("mx-ee.dane.test", QueryType.A);
        Assert.False(unvalidated.Header.IsAuthenticData);
        Assert.Contains(unvalidated.Answers, r => r is DnsClient.Protocol.RRSigRecord); // signed, but NSD does not validate
    }

    [Fact]
    public async Task A_signed_MX_RRset_and_signed_addresses_make_an_authenticated_target()
    {
        var resolution = await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("ee.dane.test").AsTask().WaitAsync(Bound);

        var target = Assert.Single(resolution.Targets);
        Assert.Equal("mx-ee.dane.test", target.Host);
        Assert.True(target.IsDnssecAuthenticated);
        Assert.Null(target.CanonicalHost);
    }

    [Fact]
    public async Task An_unsigned_delegation_is_not_authenticated()
    {
        var resolution = await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("insecure.dane.test").AsTask().WaitAsync(Bound);

        Assert.Equal("mx.insecure.dane.test", Assert.Single(resolution.Targets).Host);
        Assert.False(resolution.Targets[0].IsDnssecAuthenticated);
    }

    [Fact]
    public async Task An_unsigned_MX_RRset_naming_a_signed_host_is_not_authenticated()
    {
        // RFC 7672 section 2.2.1: whoever can forge the MX records chooses the host; its TLSA records prove nothing.
        var resolution = await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("secure-host.insecure.dane.test").AsTask().WaitAsync(Bound);

        var target = Assert.Single(resolution.Targets);
        Assert.Equal("mx-ee.dane.test", target.Host);
        Assert.False(target.IsDnssecAuthenticated);
    }

    [Fact]
    public async Task A_CNAME_MX_host_keeps_its_name_and_carries_the_name_it_leads_to()
    {
        var resolution = await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("cname.dane.test").AsTask().WaitAsync(Bound);

        var target = Assert.Single(resolution.Targets);
        Assert.Equal(("mx-alias.dane.test", "mx-real.dane.test", true), (target.Host, target.CanonicalHost, target.IsDnssecAuthenticated));
        Assert.Equal(DaneDnsFixture.AliasAddress, target.Addresses[0].Address);
    }

    [Fact]
    public async Task Expired_signatures_make_the_MX_lookup_fail_transiently()
    {
        // A bogus MX RRset is SERVFAIL from a validating resolver: deferred, never the domain's A record.
        var resolution = await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("expired.dane.test").AsTask().WaitAsync(Bound);

        Assert.Equal(MxResolutionStatus.DnsFailure, resolution.Status);
        Assert.Contains("SERVFAIL", resolution.Message);
        Assert.Contains(": Extended DNS Error 6 (DNSSEC Bogus). Try again later", resolution.Message);
    }

    [Fact]
    public async Task The_AD_bit_is_not_believed_when_the_option_says_the_resolver_does_not_validate()
    {
        var resolution = await new MxResolver(DaneDnsFixture.Options(o => o.ResolverValidatesDnssec = false)).ResolveAsync("ee.dane.test").AsTask().WaitAsync(Bound);

        Assert.False(Assert.Single(resolution.Targets).IsDnssecAuthenticated);
    }

    [Fact]
    public async Task A_loopback_resolver_that_does_not_validate_gives_no_authenticated_target()
    {
        // NSD answers with signatures but without AD: nothing is taken as validated that was not.
        var options = DaneDnsFixture.Options(o => o.NameServers = [DaneDnsFixture.AuthoritativeEndPoint]);
        var resolution = await new MxResolver(options).ResolveAsync("ee.dane.test").AsTask().WaitAsync(Bound);

        Assert.False(Assert.Single(resolution.Targets).IsDnssecAuthenticated);
    }

    [Fact]
    public void A_name_server_off_this_host_is_not_believed_by_default_and_can_be_marked_validating()
    {
        Assert.True(new MxResolverOptions { NameServers = [new IPEndPoint(IPAddress.Loopback, 53), new IPEndPoint(IPAddress.IPv6Loopback, 53)] }.TrustsAuthenticatedData());
        Assert.False(new MxResolverOptions { NameServers = [new IPEndPoint(IPAddress.Loopback, 53), new IPEndPoint(IPAddress.Parse("192.0.2.53"), 53)] }.TrustsAuthenticatedData());
        Assert.True(new MxResolverOptions { NameServers = [new IPEndPoint(IPAddress.Parse("192.0.2.53"), 53)], ResolverValidatesDnssec = true }.TrustsAuthenticatedData());
        Assert.False(new MxResolverOptions { NameServers = [new IPEndPoint(IPAddress.Loopback, 53)], ResolverValidatesDnssec = false }.TrustsAuthenticatedData());
    }

    [Fact]
    public async Task DANE_EE_records_of_an_authenticated_host_are_usable()
    {
        var lookup = await LookupAsync("ee.dane.test");

        Assert.Equal(TlsaLookupStatus.Usable, lookup.Status);
        Assert.Equal("mx-ee.dane.test", lookup.BaseDomain);
        Assert.Equal([DaneCertificates.ZoneText(3, 1, 1, DaneDnsFixture.EeCertificate)], lookup.Usable.Select(r => r.ToString()));
    }

    [Fact]
    public async Task DANE_TA_records_are_usable()
    {
        var lookup = await LookupAsync("ta.dane.test");

        Assert.Equal(TlsaLookupStatus.Usable, lookup.Status);
        Assert.Equal(TlsaAssociation.DaneTa, Assert.Single(lookup.Usable).Usage);
    }

    [Fact]
    public async Task Only_PKIX_records_are_present_but_none_usable()
    {
        var lookup = await LookupAsync("unusable.dane.test");

        Assert.Equal(TlsaLookupStatus.NoneUsable, lookup.Status);
        Assert.True(lookup.RequiresTls);
        Assert.Equal(2, lookup.Records.Length);
    }

    [Fact]
    public async Task A_tampered_TLSA_record_fails_the_lookup()
    {
        // Stops: a record changed on the way (or a broken signature) taken as "no TLSA", which would let the message
        // go in plaintext or to a man in the middle (RFC 7672 section 2.2: the host is not used).
        var lookup = await LookupAsync("bogus.dane.test");

        Assert.Equal(TlsaLookupStatus.Failed, lookup.Status);
        Assert.Contains("SERVFAIL", lookup.Reason);
        // unbound's Extended DNS Error (RFC 8914) says why: the reason names it as a bogus answer, not a lookup that
        // merely failed.
        Assert.Contains(", a DNSSEC-bogus answer: Extended DNS Error 6 (DNSSEC Bogus); the host is not used", lookup.Reason);
        Assert.False(lookup.RequiresTls); // not "TLS without a check": the host is not tried at all
    }

    [Fact]
    public async Task A_validated_denial_means_DANE_does_not_apply()
    {
        var lookup = await LookupAsync("notlsa.dane.test");

        Assert.Equal(TlsaLookupStatus.NotApplicable, lookup.Status);
        Assert.Contains("validated denial", lookup.Reason);
    }

    [Fact]
    public async Task TLSA_records_in_an_unsigned_zone_do_not_apply_and_are_not_asked_for()
    {
        var transport = new CountingTransport(DaneDnsFixture.Options());
        var resolver = new TlsaResolver(DaneDnsFixture.Options(), 25, transport: transport);
        var target = Assert.Single((await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("insecure.dane.test")).Targets);

        var lookup = await resolver.LookupAsync(target).AsTask().WaitAsync(Bound);

        Assert.Equal(TlsaLookupStatus.NotApplicable, lookup.Status);
        Assert.Equal(0, transport.Total);
    }

    [Fact]
    public async Task A_CNAME_MX_host_has_its_TLSA_records_looked_up_at_the_expanded_name_first()
    {
        var transport = new CountingTransport(DaneDnsFixture.Options());
        var lookup = await LookupAsync("cname.dane.test", transport);

        Assert.Equal(TlsaLookupStatus.Usable, lookup.Status);
        Assert.Equal("mx-real.dane.test", lookup.BaseDomain);
        Assert.Equal((1, 0), (transport.Count("_25._tcp.mx-real.dane.test", QueryType.TLSA), transport.Count("_25._tcp.mx-alias.dane.test", QueryType.TLSA)));
    }

    [Fact]
    public async Task The_records_are_kept_for_their_TTL()
    {
        var transport = new CountingTransport(DaneDnsFixture.Options());
        var resolver = new TlsaResolver(DaneDnsFixture.Options(), 25, transport: transport);
        var target = Assert.Single((await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("ee.dane.test")).Targets);

        var first = await resolver.LookupAsync(target).AsTask().WaitAsync(Bound);
        var second = await resolver.LookupAsync(target).AsTask().WaitAsync(Bound);

        Assert.Same(first, second);
        Assert.Equal(1, transport.Total);
    }

    [Fact]
    public async Task A_resolver_that_does_not_answer_fails_the_lookup()
    {
        // A TLSA query dropped on the way must not read as "no TLSA records" (RFC 7672 section 2.1.1).
        using var silent = new UdpClient(TestAddresses.Dane.SilentResolver);
        var options = DaneDnsFixture.Options(o =>
        {
            o.NameServers = [TestAddresses.Dane.SilentResolver];
            o.QueryTimeout = TimeSpan.FromMilliseconds(300);
            o.Retries = 0;
        });
        var target = Assert.Single((await new MxResolver(DaneDnsFixture.Options()).ResolveAsync("ee.dane.test")).Targets);

        var lookup = await new TlsaResolver(options, 25).LookupAsync(target).AsTask().WaitAsync(Bound);

        Assert.Equal(TlsaLookupStatus.Failed, lookup.Status);
        Assert.Contains("no answer", lookup.Reason);
    }

    [Fact]
    public void A_resolver_off_this_host_turns_DANE_off_and_says_so_once()
    {
        var logger = new ListLogger();
        var options = DaneDnsFixture.Options(o => o.NameServers = [new IPEndPoint(IPAddress.Parse("192.0.2.53"), 53)]);

        var resolver = new TlsaResolver(options, 25, logger);

        Assert.False(resolver.IsEnabled);
        Assert.Contains("192.0.2.53:53", resolver.DisabledReason);
        Assert.Contains(nameof(MxResolverOptions.ResolverValidatesDnssec), resolver.DisabledReason);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal((LogLevel.Warning, 8050), (entry.Level, entry.Id.Id));
    }

    [Fact]
    public async Task With_DANE_off_an_authenticated_host_is_not_looked_up()
    {
        var transport = new CountingTransport(DaneDnsFixture.Options());
        var resolver = new TlsaResolver(DaneDnsFixture.Options(o => o.ResolverValidatesDnssec = false), 25, transport: transport);
        var target = MxTargetWithStatus("mx-ee.dane.test", authenticated: true);

        var lookup = await resolver.LookupAsync(target).AsTask().WaitAsync(Bound);

        Assert.Equal(TlsaLookupStatus.NotApplicable, lookup.Status);
        Assert.Equal(0, transport.Total);
    }

    private static async Task<TlsaLookup> LookupAsync(string domain, IDnsTransport? transport = null)
    {
        var target = Assert.Single((await new MxResolver(DaneDnsFixture.Options()).ResolveAsync(domain).AsTask().WaitAsync(Bound)).Targets);
        Assert.True(target.IsDnssecAuthenticated, $"{target.Host} should be authenticated");
        return await new TlsaResolver(DaneDnsFixture.Options(), 25, transport: transport).LookupAsync(target).AsTask().WaitAsync(Bound);
    }

    private static MxTarget MxTargetWithStatus(string host, bool authenticated) =>
        MxTarget.Create(host, 10, [new MxAddress(DaneDnsFixture.EeAddress)], authenticated, null);
}
