using System;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Routing;

/// <summary>The zone <c>relay-route.test</c> on its own NSD (127.0.53.40:10053), for the relay host name tests.</summary>
public sealed class RelayZoneFixture : IDisposable
{
    public static readonly IPEndPoint EndPoint = TestAddresses.RelayRoute.NameServer;

    /// <summary>Where <c>smtp.relay-route.test</c> (and its alias <c>submission</c>) points.</summary>
    public static readonly IPAddress RelayAddress = TestAddresses.RelayRoute.Relay.Address;

    private readonly NsdServer _server = new(EndPoint, [new ZoneBuilder("relay-route.test")
        .WithNameServer(EndPoint.Address)
        .A("smtp", RelayAddress)
        .Cname("submission", "smtp")
        .Aaaa("dual", TestAddresses.RelayRoute.RelayV6.Address) // nothing listens there
        .A("dual", RelayAddress)
        .Build()]);

    /// <summary>The value for <c>DirectMailOptions.NameServers</c>.</summary>
    public string NameServer => $"{EndPoint.Address}:{EndPoint.Port}";

    public void Dispose() => _server.Dispose();
}

/// <summary>
/// A relay named by a host name is found through the mailer's own DNS (DirectMail:NameServers, here the test NSD), at
/// the address its zone gives, never through the system's resolver: the names exist only in the test zone. The relay is
/// a scripted one (implicit TLS, AUTH PLAIN, pinned certificate) on that address.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RelayHostResolutionTests(RelayZoneFixture zone) : IClassFixture<RelayZoneFixture>
{
    private static readonly int RelayPort = TestAddresses.RelayRoute.Relay.Port;

    private static ScriptedSmtpServer StartRelay(SmtpDialogue dialogue) => ScriptedSmtpServer.Start(async c =>
    {
        await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
        await c.ReplyAsync("220 smtp.relay-route.test ESMTP");
        await c.ExpectAsync("EHLO");
        await c.ReplyAsync("250-smtp.relay-route.test\r\n250-PIPELINING\r\n250 AUTH PLAIN");
        await c.ExpectAsync("AUTH PLAIN ");
        await c.ReplyAsync("235 2.7.0 Authentication successful");
        await dialogue.RunAfterGreetingAsync(c);
    }, new IPEndPoint(RelayZoneFixture.RelayAddress, RelayPort));

    private DirectMailOptions Options(string host, AddressFamilyPreference family = AddressFamilyPreference.PreferIPv4) => LoopbackMailerOptions.Create(25, o =>
    {
        o.AddressFamilyPreference = family;
        o.Timeouts.Command = TimeSpan.FromSeconds(30);
        o.NameServers.Add(zone.NameServer);
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        o.Relays["corp"] = new SmtpRelayOptions
        {
            Hosts = { host },
            TlsMode = SmtpTlsMode.Implicit,
            UserName = "app@client.test",
            Password = "relay-secret",
            CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
        };
        o.Routes.Default = "corp";
    });

    private static Task<DeliveryReport> SendAsync(DirectMailer mailer) =>
        mailer.SendAsync(new SmtpEnvelope("app@client.test", "someone@far.test"), SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray()));

    [Fact]
    public async Task A_relay_given_by_name_is_reached_at_the_address_of_its_zone_through_the_configured_name_servers()
    {
        var dialogue = new SmtpDialogue { DataAccepted = "250 2.0.0 Ok: queued as NAMED1" };
        await using var relay = StartRelay(dialogue);
        await using var mailer = new DirectMailer(Options($"submission.relay-route.test:{RelayPort}")); // a CNAME to smtp

        var report = await SendAsync(mailer);

        var r = report.Recipients[0];
        Assert.True(report.IsFullyDelivered, r.ToString());
        Assert.Equal(DeliveryRoute.Relay, r.Route);
        Assert.Equal("submission.relay-route.test", r.MxHost);
        Assert.Equal(RelayZoneFixture.RelayAddress, r.ServerAddress);
        Assert.Single(dialogue.Messages);
    }

    [Fact]
    public async Task With_an_application_s_own_MX_resolver_the_relay_name_still_goes_to_the_configured_name_servers()
    {
        var dialogue = new SmtpDialogue();
        await using var relay = StartRelay(dialogue);
        var table = new TableResolver(); // knows nothing: the relay's name must not be asked of it (nor of the system)
        await using var mailer = new DirectMailer(Options($"smtp.relay-route.test:{RelayPort}"), table);

        var report = await SendAsync(mailer);

        Assert.True(report.IsFullyDelivered, report.Recipients[0].ToString());
        Assert.Equal(RelayZoneFixture.RelayAddress, report.Recipients[0].ServerAddress);
        Assert.Equal(0, table.Queries("smtp.relay-route.test"));
        Assert.Equal(0, table.Queries("far.test"));
        Assert.Single(dialogue.Messages);
    }

    [Theory]
    [InlineData(AddressFamilyPreference.PreferIPv6, 2)] // ::1 first (nothing listens there), then the A address
    [InlineData(AddressFamilyPreference.PreferIPv4, 1)]
    [InlineData(AddressFamilyPreference.IPv4Only, 1)]
    public async Task The_address_family_preference_orders_a_relay_name_s_addresses_as_it_does_an_MX_s(AddressFamilyPreference family, int attempts)
    {
        var dialogue = new SmtpDialogue();
        await using var relay = StartRelay(dialogue);
        await using var mailer = new DirectMailer(Options($"dual.relay-route.test:{RelayPort}", family));

        var report = await SendAsync(mailer);

        var r = report.Recipients[0];
        Assert.True(report.IsFullyDelivered, r.ToString());
        Assert.Equal(RelayZoneFixture.RelayAddress, r.ServerAddress);
        Assert.Equal(attempts, r.Attempts);
    }

    [Fact]
    public async Task A_relay_name_its_zone_does_not_have_defers_with_the_DNS_answer_and_nothing_is_connected_to()
    {
        var dialogue = new SmtpDialogue();
        await using var relay = StartRelay(dialogue);
        await using var mailer = new DirectMailer(Options($"nosuch.relay-route.test:{RelayPort}"));

        var report = await SendAsync(mailer);

        var r = report.Recipients[0];
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Contains("The relay host nosuch.relay-route.test did not resolve: nosuch.relay-route.test does not exist (NXDOMAIN).", r.Detail, StringComparison.Ordinal);
        Assert.Equal(0, relay.Accepted);
    }
}
