using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Tests.Cli;

namespace DirectMail.Tests.Security.Dane;

/// <summary><c>directmail mx DOMAIN --tls</c> run as a process against the validating resolver: DNSSEC status and TLSA records per MX host.</summary>
[Collection(DaneDnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DaneCliTests
{
    private static readonly string Resolver = DaneDnsFixture.ValidatingEndPoint.ToString();

    [Fact]
    public async Task Mx_tls_shows_each_host_s_DNSSEC_status_TLSA_records_and_the_DANE_requirement()
    {
        var result = await CliRunner.RunAsync("mx", "ee.dane.test", "--tls", "--json", "--dns", Resolver, "--no-mta-sts");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var tls = json.RootElement.GetProperty("tls");
        Assert.True(tls.GetProperty("dane").GetProperty("enabled").GetBoolean());
        var host = Assert.Single(tls.GetProperty("hosts").EnumerateArray());
        Assert.Equal(("mx-ee.dane.test", "secure", "usable"), (host.GetProperty("host").GetString(), host.GetProperty("dnssec").GetString(), host.GetProperty("dane").GetString()));
        Assert.Equal([DaneCertificates.ZoneText(3, 1, 1, DaneDnsFixture.EeCertificate)], host.GetProperty("tlsa").EnumerateArray().Select(r => r.GetProperty("record").GetString()));
        Assert.Equal(("authenticated", "tlsa", "dane-ee"), (host.GetProperty("requirement").GetString(), host.GetProperty("policyType").GetString(), host.GetProperty("posture").GetString()));

        var text = await CliRunner.RunAsync("mx", "unusable.dane.test", "--tls", "--dns", Resolver, "--no-mta-sts");
        Assert.Contains("DANE: on", text.StdOut);
        Assert.Contains("mx-unusable.dane.test: DNSSEC secure; TLSA none-usable", text.StdOut);
        Assert.Contains("(unusable: usage 1 (PKIX-EE) is unusable for SMTP (RFC 7672 section 3.1.3))", text.StdOut);
        Assert.Contains("mx-unusable.dane.test: TLS, certificate not checked", text.StdOut);
    }

    [Fact]
    public async Task Mx_tls_says_a_bogus_TLSA_answer_leaves_the_host_unused()
    {
        var result = await CliRunner.RunAsync("mx", "bogus.dane.test", "--tls", "--json", "--dns", Resolver, "--no-mta-sts");

        using var json = JsonDocument.Parse(result.StdOut);
        var host = Assert.Single(json.RootElement.GetProperty("tls").GetProperty("hosts").EnumerateArray());
        Assert.Equal(("failed", "not-used"), (host.GetProperty("dane").GetString(), host.GetProperty("requirement").GetString()));
    }

    [Fact]
    public async Task Mx_tls_with_a_loopback_resolver_that_does_not_validate_says_DANE_cannot_be_assessed()
    {
        // Stops: "DANE: on" and "DNSSEC insecure" for every host of a signed domain when the loopback name server does not
        // validate (NSD here, authoritative: signed answers, never the AD bit; systemd-resolved's stub in real life), which
        // reads as "this domain has no DANE".
        var nonValidating = DaneDnsFixture.AuthoritativeEndPoint.ToString();

        var result = await CliRunner.RunAsync("mx", "ee.dane.test", "--tls", "--dns", nonValidating, "--no-mta-sts");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(
            $"DANE: cannot be assessed: the name servers {nonValidating} returned the signed MX records of ee.dane.test without the AD bit: they do not validate DNSSEC (or the zone's chain of trust is broken), so every MX host shows as insecure and DANE cannot be assessed with them. Use a validating resolver (unbound, for instance) with --dns.",
            result.StdOut.Split('\n').Select(l => l.TrimEnd('\r')));
        Assert.DoesNotContain("DANE: on", result.StdOut);

        // The validating resolver, same domain: DANE assessed, nothing said.
        var validating = await CliRunner.RunAsync("mx", "ee.dane.test", "--tls", "--dns", Resolver, "--no-mta-sts");
        Assert.Contains("DANE: on", validating.StdOut);
        Assert.DoesNotContain("cannot be assessed", validating.StdOut);
    }

    [Fact]
    public async Task Mx_tls_says_when_DANE_is_off_and_why()
    {
        var result = await CliRunner.RunAsync("mx", "ee.dane.test", "--tls", "--dns", Resolver, "--no-mta-sts", "--no-dane");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("DANE: off: --no-dane was given.", result.StdOut);
        Assert.Contains("mx-ee.dane.test: opportunistic TLS", result.StdOut);
    }
}
