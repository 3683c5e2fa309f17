using System.Linq;
using System.Net;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Tests.Cli;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>
/// <c>directmail mx DOMAIN --tls</c> and the posture in <c>send --json</c>, run as a process against the delivery NSD, the
/// policy HTTPS server and a STARTTLS MX (the same parts as <see cref="MtaStsDeliveryTests"/>).
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MtaStsCliTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>
{
    private const string Domain = "sts-enforce.deliver.test";

    [Fact]
    public async Task Mx_tls_shows_the_policy_and_what_each_host_must_achieve()
    {
        fixture.Https.ServePolicy(Domain, "version: STSv1\nmode: enforce\nmx: mx.sts-enforce.deliver.test\nmax_age: 86400\n");

        var result = await CliRunner.RunAsync("mx", Domain, "--tls", "--json", "--dns", DeliveryDnsFixture.NameServer, "--ca-file", fixture.Ca.PemFile, "--allow-private-targets");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var tls = json.RootElement.GetProperty("tls");
        var sts = tls.GetProperty("mtaSts");
        Assert.Equal("v=STSv1; id=20261201a;", sts.GetProperty("record").GetString());
        Assert.Equal("20261201a", sts.GetProperty("id").GetString());
        Assert.Equal("enforce", sts.GetProperty("mode").GetString());
        Assert.Equal(["mx.sts-enforce.deliver.test"], sts.GetProperty("mx").EnumerateArray().Select(e => e.GetString()));
        var host = Assert.Single(tls.GetProperty("hosts").EnumerateArray());
        Assert.Equal("mx.sts-enforce.deliver.test", host.GetProperty("host").GetString());
        Assert.Equal("authenticated", host.GetProperty("requirement").GetString());
        Assert.Equal("sts", host.GetProperty("policyType").GetString());
        Assert.Equal("mta-sts", host.GetProperty("posture").GetString());

        var text = await CliRunner.RunAsync("mx", Domain, "--tls", "--dns", DeliveryDnsFixture.NameServer, "--ca-file", fixture.Ca.PemFile, "--allow-private-targets");
        Assert.Contains("MTA-STS policy (id 20261201a): mode enforce", text.StdOut);
        Assert.Contains("mx.sts-enforce.deliver.test: TLS, certificate authenticated (mta-sts)", text.StdOut);
    }

    [Fact]
    public async Task Mx_tls_without_the_CA_reports_the_untrusted_policy_host()
    {
        // Stops: a policy served from a host whose certificate does not validate being shown (and used) as valid.
        fixture.Https.ServePolicy(Domain, "version: STSv1\nmode: enforce\nmx: mx.sts-enforce.deliver.test\nmax_age: 86400\n");

        var result = await CliRunner.RunAsync("mx", Domain, "--tls", "--json", "--dns", DeliveryDnsFixture.NameServer, "--allow-private-targets");

        using var json = JsonDocument.Parse(result.StdOut);
        var tls = json.RootElement.GetProperty("tls");
        Assert.Equal("sts-webpki-invalid", tls.GetProperty("mtaSts").GetProperty("failure").GetString());
        Assert.Equal("opportunistic", Assert.Single(tls.GetProperty("hosts").EnumerateArray()).GetProperty("requirement").GetString());
    }

    [Fact]
    public async Task Send_json_carries_the_posture_of_each_recipient()
    {
        fixture.Https.ServePolicy(Domain, "version: STSv1\nmode: enforce\nmx: mx.sts-enforce.deliver.test\nmax_age: 86400\n");
        await using var mx = StartTlsSmtpServer.Start(new IPEndPoint(TestAddresses.MtaSts.Enforce, TestAddresses.MtaSts.Port), fixture.Ca.Issue("mx.sts-enforce.deliver.test"));

        var result = await CliRunner.RunAsync(
            "send", "--from", DeliveryTestKit.Sender, "--to", "one@" + Domain, "--subject", "posture", "--text", "Hello.", "--helo", "client.deliver.test",
            "--dns", DeliveryDnsFixture.NameServer, "--port", "10025", "--allow-private-targets", "--ca-file", fixture.Ca.PemFile, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var recipient = Assert.Single(json.RootElement.GetProperty("recipients").EnumerateArray());
        var posture = recipient.GetProperty("tls");
        Assert.Equal("mta-sts", posture.GetProperty("kind").GetString());
        Assert.StartsWith("Tls", posture.GetProperty("protocol").GetString());
        Assert.False(string.IsNullOrEmpty(posture.GetProperty("cipherSuite").GetString()));
        Assert.Single(mx.Dialogue.Messages);
    }
}
