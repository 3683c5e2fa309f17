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
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Routing;

/// <summary>
/// XOAUTH2 and OAUTHBEARER (RFC 7628) against a real aiosmtpd relay (<see cref="OAuthRelayServer"/>, STARTTLS on
/// 127.0.31.100 and up, port 10587): what the relay read (the exact initial responses, the user and token in them, the
/// answers to its error challenges), what it stored, and, for relays that must get nothing, that nothing arrived.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OAuthRelayTests
{
    private static int _nextAddress = 99;

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.31.{Interlocked.Increment(ref _nextAddress)}");

    private static readonly byte[] Message = "From: app@client.test\r\nTo: someone@far.test\r\nSubject: token\r\n\r\nSent with a token.\r\n.leading dot\r\n"u8.ToArray();

    /// <summary>A token provider that hands out the given tokens in order (the last one again when they run out) and records every call's refresh flag.</summary>
    private sealed class Tokens(params string[] tokens)
    {
        public ConcurrentQueue<bool> Calls { get; } = new();

        public ValueTask<string> Provide(string user, bool refresh, CancellationToken cancellationToken)
        {
            Assert.Equal(OAuthRelayServer.User, user);
            var index = Calls.Count;
            Calls.Enqueue(refresh);
            return ValueTask.FromResult(tokens[Math.Min(index, tokens.Length - 1)]);
        }
    }

    private static SmtpRelayOptions Relay(OAuthRelayServer server, Tokens tokens, SmtpAuthMechanism? mechanism = null)
    {
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        return new SmtpRelayOptions
        {
            Hosts = { server.Host },
            TlsMode = SmtpTlsMode.Required,
            UserName = OAuthRelayServer.User,
            TokenProvider = tokens.Provide,
            AuthMechanism = mechanism,
            CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
        };
    }

    private static DirectMailer Mailer(SmtpRelayOptions relay, ILoggerFactory? logs = null) => new(LoopbackMailerOptions.Create(25, o =>
    {
        o.Timeouts.Command = TimeSpan.FromSeconds(30); // the first TLS handshake of a run can take seconds on a loaded machine
        o.Relays["oauth"] = relay;
        o.Routes.Default = "oauth";
    }), new TableResolver(), logs);

    private static Task<DeliveryReport> SendAsync(DirectMailer mailer, string recipient = "someone@far.test") =>
        mailer.SendAsync(new SmtpEnvelope(OAuthRelayServer.User, recipient), SmtpContent.FromBytes(Message));

    private static byte[] XOAuth2(string token) => Encoding.UTF8.GetBytes($"user={OAuthRelayServer.User}\u0001auth=Bearer {token}\u0001\u0001");

    private static byte[] OAuthBearer(string token) => Encoding.UTF8.GetBytes($"n,a={OAuthRelayServer.User},\u0001auth=Bearer {token}\u0001\u0001");

    [Fact]
    public async Task A_pinned_XOAUTH2_token_is_accepted_the_message_is_stored_as_sent_and_the_trace_masks_the_token()
    {
        using var server = new OAuthRelayServer(NewAddress(), ["ya29.valid-token"]);
        var tokens = new Tokens("ya29.valid-token");
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        await using var mailer = Mailer(Relay(server, tokens, SmtpAuthMechanism.XOAuth2), factory);

        var report = await SendAsync(mailer);

        var r = report.Recipients[0];
        Assert.True(report.IsFullyDelivered, r.ToString());
        Assert.Equal(DeliveryRoute.Relay, r.Route);
        Assert.Equal("OAUTH1", r.ServerQueueId);
        var auth = Assert.Single(server.Auths());
        Assert.Equal(("XOAUTH2", OAuthRelayServer.User, "ya29.valid-token", true), (auth.Mechanism, auth.User, auth.Token, auth.Accepted));
        Assert.Equal(XOAuth2("ya29.valid-token"), auth.Initial);
        var stored = Assert.Single(server.Messages());
        Assert.Equal(Message, stored.Content);
        Assert.Equal(OAuthRelayServer.User, stored.AuthUser);
        Assert.Equal(new[] { "someone@far.test" }, stored.Recipients);
        Assert.Equal(new[] { false }, tokens.Calls);

        // --trace and any Trace-level log: the exchange shown, the token never.
        Assert.Contains(logs.Logger.Messages, m => m.Contains($"C: AUTH XOAUTH2 <user={OAuthRelayServer.User} auth=Bearer masked>", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Logger.Messages, m => m.Contains("valid-token", StringComparison.Ordinal) || m.Contains(Convert.ToBase64String(XOAuth2("ya29.valid-token")), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unpinned_the_standard_OAUTHBEARER_is_chosen_and_a_pooled_connection_authenticates_once_for_three_messages()
    {
        using var server = new OAuthRelayServer(NewAddress(), ["bearer-1"]);
        var tokens = new Tokens("bearer-1");
        await using var mailer = Mailer(Relay(server, tokens));

        for (var i = 0; i < 3; i++)
        {
            var report = await SendAsync(mailer, $"r{i}@far.test");
            Assert.True(report.IsFullyDelivered, report.Recipients[0].ToString());
        }

        // The relay offers LOGIN, OAUTHBEARER, PLAIN and XOAUTH2: token credentials take OAUTHBEARER, over one connection.
        var auth = Assert.Single(server.Auths());
        Assert.Equal("OAUTHBEARER", auth.Mechanism);
        Assert.Equal(OAuthBearer("bearer-1"), auth.Initial);
        var messages = server.Messages();
        Assert.Equal(3, messages.Count);
        Assert.All(messages, m => Assert.Equal(auth.Connection, m.Connection));
        Assert.Single(server.Commands(), c => c.Verb == "AUTH");
        Assert.Single(tokens.Calls);
    }

    [Theory]
    [InlineData(SmtpAuthMechanism.XOAuth2)]
    [InlineData(SmtpAuthMechanism.OAuthBearer)]
    public async Task An_expired_token_gets_the_error_challenge_the_provider_is_asked_once_more_and_the_fresh_token_passes(SmtpAuthMechanism mechanism)
    {
        using var server = new OAuthRelayServer(NewAddress(), ["fresh-token"]);
        var tokens = new Tokens("expired-token", "fresh-token");
        await using var mailer = Mailer(Relay(server, tokens, mechanism));

        var report = await SendAsync(mailer);

        Assert.True(report.IsFullyDelivered, report.Recipients[0].ToString());
        Assert.Equal(new[] { false, true }, tokens.Calls);
        var auths = server.Auths();
        Assert.Equal(2, auths.Count);
        Assert.Equal(("expired-token", false), (auths[0].Token, auths[0].Accepted));
        Assert.Equal(("fresh-token", true), (auths[1].Token, auths[1].Accepted));
        Assert.Equal(auths[0].Connection, auths[1].Connection); // the same connection, after the 535
        // The answer to the error challenge: XOAUTH2's empty line, OAUTHBEARER's single %x01 (RFC 7628 section 3.2.3).
        Assert.Equal(mechanism == SmtpAuthMechanism.XOAuth2 ? [] : new byte[] { 1 }, auths[0].ErrorResponse);
        var initial = mechanism == SmtpAuthMechanism.XOAuth2 ? XOAuth2("fresh-token") : OAuthBearer("fresh-token");
        Assert.Equal(initial, auths[1].Initial);
        Assert.Equal(Message, Assert.Single(server.Messages()).Content);
    }

    [Fact]
    public async Task A_token_refused_twice_is_CredentialsRejected_after_one_refresh_and_nothing_is_sent()
    {
        using var server = new OAuthRelayServer(NewAddress(), ["the-only-good-token"]);
        var tokens = new Tokens("stale-1", "stale-2", "stale-3");
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        await using var session = new SmtpSession(SmtpSessionConnectTests.Options(o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.TlsMode = SmtpTlsMode.Required;
            o.Credentials = SmtpCredentials.FromOAuthToken(OAuthRelayServer.User, tokens.Provide);
            o.AuthMechanism = SmtpAuthMechanism.OAuthBearer;
            o.CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned;
        }));

        var result = await session.ConnectAsync(new IPEndPoint(server.Address, OAuthRelayServer.Port), "oauth.relay.test");

        Assert.Equal(SmtpFailureKind.CredentialsRejected, result.Failure?.Kind);
        Assert.Equal("5.7.8", result.Failure!.Reply?.EnhancedStatusCode?.ToString());
        Assert.Equal(new[] { false, true }, tokens.Calls);
        await server.WaitForClosedAsync(1);
        Assert.Equal(new[] { ("stale-1", false), ("stale-2", false) }, server.Auths().Select(a => (a.Token ?? "<none>", a.Accepted)));
        Assert.DoesNotContain(server.Commands(), c => c.Verb is "MAIL" or "RCPT" or "DATA");
        Assert.Empty(server.Messages());
    }

    [Fact]
    public async Task A_relay_that_does_not_offer_STARTTLS_gets_no_AUTH_and_no_MAIL_though_it_offers_AUTH_in_plaintext()
    {
        using var server = new OAuthRelayServer(NewAddress(), ["good"], startTls: false);
        var tokens = new Tokens("good");
        await using var mailer = Mailer(Relay(server, tokens));

        var report = await SendAsync(mailer);

        var r = report.Recipients[0];
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        await server.WaitForClosedAsync(1);
        Assert.Equal(new[] { "EHLO", "QUIT", "<closed>" }, server.Commands().Select(c => c.Verb));
        Assert.Empty(server.Auths());
        Assert.Empty(server.Messages());
        Assert.Empty(tokens.Calls); // not even a token was fetched
    }

    [Fact]
    public async Task A_relay_presenting_another_certificate_gets_no_AUTH_and_no_MAIL()
    {
        using var server = new OAuthRelayServer(NewAddress(), ["good"], certificate: TestCertificates.Create("impostor.test"));
        var tokens = new Tokens("good");
        await using var mailer = Mailer(Relay(server, tokens));

        var report = await SendAsync(mailer);

        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[0].Status);
        await server.WaitForClosedAsync(1);
        var verbs = server.Commands().Select(c => c.Verb).ToList();
        Assert.Equal(new[] { "EHLO", "STARTTLS" }, verbs.Take(2));
        Assert.DoesNotContain("AUTH", verbs);
        Assert.DoesNotContain("MAIL", verbs);
        Assert.Empty(server.Auths());
        Assert.Empty(server.Messages());
        Assert.Empty(tokens.Calls);
    }
}
