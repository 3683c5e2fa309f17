using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Routing;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Routing;

/// <summary>
/// Routes through the real mailer against scripted MX hosts and scripted relays (implicit TLS, AUTH PLAIN, a pinned
/// self-signed certificate) on 127.0.30.0/24: which servers got the message, and what the report says.
/// </summary>
public sealed class RelayRouteTests
{
    private const int Port = 10125;
    private const int RelayPort = 10465;
    private static int _nextAddress = 10;

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.30.{Interlocked.Increment(ref _nextAddress)}");

    private static SmtpContent Content() => SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray());

    /// <summary>A relay: implicit TLS, AUTH PLAIN (every AUTH line recorded), then the dialogue.</summary>
    private sealed class ScriptedRelay : IAsyncDisposable
    {
        private readonly ScriptedSmtpServer _server;

        public ScriptedRelay(IPAddress address, SmtpDialogue? dialogue = null)
        {
            Dialogue = dialogue ?? new SmtpDialogue { DataAccepted = "250 2.0.0 Ok: queued as RELAY42" };
            Address = address;
            _server = ScriptedSmtpServer.Start(async c =>
            {
                await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
                await c.ReplyAsync("220 relay.test ESMTP");
                await c.ExpectAsync("EHLO");
                await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME");
                Auths.Enqueue(await c.ExpectAsync("AUTH"));
                await c.ReplyAsync("235 2.7.0 Authentication successful");
                await Dialogue.RunAfterGreetingAsync(c);
            }, new IPEndPoint(address, RelayPort));
        }

        public IPAddress Address { get; }

        public SmtpDialogue Dialogue { get; }

        public ConcurrentQueue<string> Auths { get; } = new();

        public int Accepted => _server.Accepted;

        public string Host => Address + ":" + RelayPort;

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }

    private static SmtpRelayOptions Relay(params string[] hosts)
    {
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        var relay = new SmtpRelayOptions
        {
            TlsMode = SmtpTlsMode.Implicit,
            UserName = "app@client.test",
            Password = "relay-secret",
            CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
        };
        relay.Hosts.AddRange(hosts);
        return relay;
    }

    private static DirectMailOptions Options(Action<DirectMailOptions> configure) => LoopbackMailerOptions.Create(Port, o =>
    {
        o.Timeouts.Command = TimeSpan.FromSeconds(30); // the first TLS handshake of a run can take seconds on a loaded machine
        configure(o);
    });

    [Fact]
    public async Task A_relay_route_sends_through_the_relay_without_an_MX_lookup_and_the_report_names_it()
    {
        await using var relay = new ScriptedRelay(NewAddress());
        var resolver = new TableResolver();
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["corp"] = Relay(relay.Host);
            o.Routes.Default = "corp";
        }), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "x@far.test", "y@other.test"), Content());

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.All(report.Recipients, r => Assert.Equal(DeliveryRoute.Relay, r.Route));
        Assert.Equal(relay.Address.ToString(), report.Recipients[0].MxHost);
        Assert.Contains("queued as RELAY42", report.Recipients[0].Reply!.Text, StringComparison.Ordinal);
        Assert.Contains("via relay", report.Recipients[0].ToString(), StringComparison.Ordinal);
        Assert.Equal(0, resolver.Queries("far.test"));
        Assert.Equal(2, relay.Dialogue.Messages.Count);
        Assert.Equal("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0app@client.test\0relay-secret")), relay.Auths.First());
    }

    [Fact]
    public async Task Pooled_relay_connections_authenticate_once_per_connection()
    {
        await using var relay = new ScriptedRelay(NewAddress());
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["corp"] = Relay(relay.Host);
            o.Routes.Default = "corp";
        }), new TableResolver());

        for (var i = 0; i < 3; i++)
        {
            var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", $"x{i}@far.test"), Content());
            Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        }

        Assert.Equal(1, relay.Accepted);
        Assert.Single(relay.Auths);
        Assert.Equal(3, relay.Dialogue.Messages.Count);
    }

    [Fact]
    public async Task When_the_first_relay_host_is_down_the_second_takes_the_message()
    {
        var down = NewAddress(); // nothing listens: refused
        await using var relay = new ScriptedRelay(NewAddress());
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["corp"] = Relay(down + ":" + RelayPort, relay.Host);
            o.Routes.Default = "corp";
        }), new TableResolver());

        var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "x@far.test"), Content());

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(relay.Address, report.Recipients[0].ServerAddress);
        Assert.Equal(2, report.Recipients[0].Attempts);
    }

    [Fact]
    public async Task A_sender_domain_route_overrides_the_recipient_domain_route()
    {
        var mx = new SmtpDialogue();
        var mxAddress = NewAddress();
        await using var mxServer = ScriptedSmtpServer.Start(mx.RunAsync, new IPEndPoint(mxAddress, Port));
        await using var relay = new ScriptedRelay(NewAddress());
        var resolver = new TableResolver { ["far.test"] = [("mx.far.test", 10, mxAddress)] };
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["tenant"] = Relay(relay.Host);
            o.Routes.SenderDomains["tenant.test"] = "tenant";
        }), resolver);

        var direct = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "x@far.test"), Content());
        var tenant = await mailer.SendAsync(new SmtpEnvelope("news@Tenant.Test", "x@far.test"), Content());

        Assert.Equal(DeliveryRoute.Direct, direct.Recipients[0].Route);
        Assert.Equal(DeliveryRoute.Relay, tenant.Recipients[0].Route);
        Assert.Single(mx.Messages);
        Assert.Single(relay.Dialogue.Messages);
    }

    [Fact]
    public async Task What_the_MX_defers_with_4xx_goes_to_the_fallback_relay_and_a_5xx_never_does()
    {
        var mx = new SmtpDialogue { Respond = l => l.StartsWith("RCPT TO:<later@", StringComparison.Ordinal) ? "451 4.3.0 try later" : l.StartsWith("RCPT TO:<nobody@", StringComparison.Ordinal) ? "550 5.1.1 no such user" : null };
        var mxAddress = NewAddress();
        await using var mxServer = ScriptedSmtpServer.Start(mx.RunAsync, new IPEndPoint(mxAddress, Port));
        await using var relay = new ScriptedRelay(NewAddress());
        var resolver = new TableResolver { ["far.test"] = [("mx.far.test", 10, mxAddress)] };
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["backup"] = Relay(relay.Host);
            o.Routes.FallbackRelay = "backup";
        }), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "now@far.test", "later@far.test", "nobody@far.test"), Content());

        Assert.Equal((DeliveryStatus.Delivered, DeliveryRoute.Direct), (report.Recipients[0].Status, report.Recipients[0].Route));
        Assert.Equal((DeliveryStatus.Delivered, DeliveryRoute.FallbackRelay), (report.Recipients[1].Status, report.Recipients[1].Route));
        Assert.Equal((DeliveryStatus.Failed, DeliveryRoute.Direct), (report.Recipients[2].Status, report.Recipients[2].Route));
        Assert.Equal(new[] { "RCPT TO:<later@far.test>" }, relay.Dialogue.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_fallback_relay_is_not_used_for_a_domain_whose_MX_it_is()
    {
        await using var relay = new ScriptedRelay(NewAddress(), new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "451 4.3.0 later" : null });
        // The relay's own domain: its MX is the relay's address (on the MX port, which nothing answers).
        var resolver = new TableResolver { ["relay.test"] = [("relay.test", 10, relay.Address)] };
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["backup"] = Relay(relay.Host);
            o.Routes.FallbackRelay = "backup";
        }), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "postmaster@relay.test"), Content());

        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[0].Status);
        Assert.Equal(DeliveryRoute.Direct, report.Recipients[0].Route);
        Assert.Equal(0, relay.Accepted);
    }

    [Fact]
    public async Task A_relay_that_offers_no_AUTH_gets_no_mail_and_the_recipients_never_go_to_the_MX_instead()
    {
        var mx = new SmtpDialogue();
        var mxAddress = NewAddress();
        await using var mxServer = ScriptedSmtpServer.Start(mx.RunAsync, new IPEndPoint(mxAddress, Port));
        var address = NewAddress();
        var commands = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            await c.ReplyAsync("220 relay.test ESMTP");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250 8BITMIME"); // an open relay would take anything: not with credentials set
            while (await c.ReadLineAsync() is { } line)
            {
                commands.Enqueue(line);
                await c.ReplyAsync(line.StartsWith("QUIT", StringComparison.Ordinal) ? "221 bye" : "250 2.0.0 Ok");
            }
        }, new IPEndPoint(address, RelayPort));
        var resolver = new TableResolver { ["far.test"] = [("mx.far.test", 10, mxAddress)] };
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Relays["corp"] = Relay(address + ":" + RelayPort);
            o.Routes.Domains["far.test"] = "corp";
        }), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "x@far.test"), Content());

        var r = report.Recipients[0];
        Assert.Equal((DeliveryStatus.Deferred, DeliveryRoute.Relay), (r.Status, r.Route));
        Assert.Contains("does not offer AUTH; with credentials configured nothing is sent unauthenticated", r.Hint, StringComparison.Ordinal);
        await server.WaitForScriptsAsync();
        Assert.Equal(new[] { "QUIT" }, commands);
        Assert.Equal(0, resolver.Queries("far.test"));
        Assert.Equal(0, mxServer.Accepted);
        Assert.Empty(mx.Messages);
    }

    [Fact]
    public async Task When_every_port_25_connection_times_out_the_port_blocked_relay_takes_the_mail_now_and_for_a_while()
    {
        var blocked = NewAddress();
        using var blackhole = new BlackholeListener(blocked); // on TestAddresses.Delivery.Port, the MX port of this test
        await using var relay = new ScriptedRelay(NewAddress());
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var resolver = new TableResolver { ["blocked.test"] = [("mx.blocked.test", 10, blocked)] };
        await using var mailer = new DirectMailer(Options(o =>
        {
            o.Port = TestAddresses.Delivery.Port;
            o.Timeouts.Connect = TimeSpan.FromMilliseconds(300);
            o.Relays["submission"] = Relay(relay.Host);
            o.Routes.PortBlockedRelay = "submission";
            o.Routes.PortBlockedRelayDuration = TimeSpan.FromMinutes(30);
        }), resolver, timeProvider: time);

        var first = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "x@blocked.test"), Content());
        Assert.Equal((DeliveryStatus.Delivered, DeliveryRoute.PortBlockedRelay), (first.Recipients[0].Status, first.Recipients[0].Route));
        Assert.Contains(first.Diagnostics, d => d.Contains("through the relay submission", StringComparison.Ordinal));
        Assert.Null(first.Recipients[0].Hint);
        Assert.Equal(1, resolver.Queries("blocked.test"));

        // Within the window: straight to the relay, no MX lookup, no connection to port 25.
        var second = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "y@blocked.test"), Content());
        Assert.Equal((DeliveryStatus.Delivered, DeliveryRoute.PortBlockedRelay), (second.Recipients[0].Status, second.Recipients[0].Route));
        Assert.Equal(1, resolver.Queries("blocked.test"));
        Assert.Empty(second.Diagnostics);

        // After it: direct delivery is probed again (still blocked here), and the relay takes the mail once more.
        time.Advance(TimeSpan.FromMinutes(31));
        var probe = await mailer.SendAsync(new SmtpEnvelope("app@client.test", "z@blocked.test"), Content());
        Assert.Equal(2, resolver.Queries("blocked.test"));
        Assert.Equal((DeliveryStatus.Delivered, DeliveryRoute.PortBlockedRelay), (probe.Recipients[0].Status, probe.Recipients[0].Route));
        Assert.Equal(3, relay.Dialogue.Messages.Count);
    }

    [Fact]
    public void Routes_naming_an_unknown_relay_and_relays_without_TLS_are_refused_by_the_one_validator()
    {
        var options = LoopbackMailerOptions.Create(Port, o =>
        {
            o.Relays["corp"] = new SmtpRelayOptions { Hosts = { "smtp.example.net:587" }, TlsMode = SmtpTlsMode.Opportunistic, UserName = "u", Password = "p" };
            o.Routes.Default = "crop";
            o.Routes.FallbackRelay = "Direct";
        });

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("DirectMail:Routes:Default 'crop' is neither Direct nor a relay", e.Message, StringComparison.Ordinal);
        Assert.Contains("DirectMail:Routes:FallbackRelay 'Direct' is not a relay", e.Message, StringComparison.Ordinal);
        Assert.Contains("DirectMail:Relays:corp:TlsMode must be Required", e.Message, StringComparison.Ordinal);
    }
}
