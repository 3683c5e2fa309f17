using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Routing;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// SMTP AUTH against the private Postfix instance's submission services, Cyrus SASL with a sasldb: implicit TLS on
/// <see cref="PostfixFixture.SubmissionsPort"/> (as 465) and STARTTLS on <see cref="PostfixFixture.SubmissionPort"/>
/// (as 587), AUTH required before RCPT. What Postfix stored and logged is asserted, not only what the client saw.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixSubmissionAuthTests(PostfixFixture postfix)
{
    private SmtpSessionOptions Options(SmtpTlsMode mode, SmtpAuthMechanism? mechanism, string password = PostfixFixture.RelayPassword)
    {
        var pinned = postfix.Certificate.GetCertHashString();
        var options = SmtpSessionConnectTests.Options(o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.TlsMode = mode;
            o.Credentials = SmtpCredentials.FromPassword(PostfixFixture.RelayUser, password);
            o.AuthMechanism = mechanism;
            o.CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned;
        });
        return options;
    }

    private static IPEndPoint EndPoint(SmtpTlsMode mode) => new(PostfixFixture.Address, mode == SmtpTlsMode.Implicit ? PostfixFixture.SubmissionsPort : PostfixFixture.SubmissionPort);

    [Theory]
    [InlineData(SmtpTlsMode.Implicit, SmtpAuthMechanism.Plain)]
    [InlineData(SmtpTlsMode.Implicit, SmtpAuthMechanism.Login)]
    [InlineData(SmtpTlsMode.Implicit, SmtpAuthMechanism.ScramSha256)]
    [InlineData(SmtpTlsMode.Required, SmtpAuthMechanism.ScramSha1)]
    [InlineData(SmtpTlsMode.Required, SmtpAuthMechanism.ScramSha256)]
    [InlineData(SmtpTlsMode.Required, SmtpAuthMechanism.Plain)]
    [InlineData(SmtpTlsMode.Required, null)]
    public async Task Postfix_with_Cyrus_SASL_authenticates_and_stores_the_message(SmtpTlsMode mode, SmtpAuthMechanism? mechanism)
    {
        await using var session = new SmtpSession(Options(mode, mechanism));

        var connect = await session.ConnectAsync(EndPoint(mode), PostfixFixture.HostName);
        Assert.True(connect.IsSuccess, connect + "\n" + postfix.ReadLog());
        Assert.True(session.IsEncrypted);
        Assert.Equal(mechanism ?? SmtpAuthMechanism.ScramSha256, session.AuthMechanism); // unpinned: the strongest both offer
        var localPart = "auth-" + (mechanism?.ToString() ?? "best").ToLowerInvariant() + "-" + mode.ToString().ToLowerInvariant();
        var result = await session.SendAsync(new SmtpEnvelope("app@client.test", PostfixFixture.Recipient(localPart)), SmtpContent.FromBytes(PostfixTestMessages.Message(PostfixFixture.Recipient(localPart), "auth", "Submitted with AUTH.")));
        var client = session.LocalEndPoint!;
        await session.QuitAsync();

        var stored = await postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(PostfixFixture.Recipient(localPart), stored.DeliveredTo);
        Assert.Contains("auth=1", await postfix.WaitForSessionSummaryAsync(client), StringComparison.Ordinal);
        Assert.Contains($"sasl_method={SaslName(mechanism ?? SmtpAuthMechanism.ScramSha256)}, sasl_username={PostfixFixture.RelayUser}", postfix.ReadLog(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SmtpTlsMode.Implicit)]
    [InlineData(SmtpTlsMode.Required)]
    public async Task A_wrong_password_is_CredentialsRejected_with_Postfix_s_535_5_7_8(SmtpTlsMode mode)
    {
        await using var session = new SmtpSession(Options(mode, SmtpAuthMechanism.Plain, password: "not-the-password"));

        var connect = await session.ConnectAsync(EndPoint(mode), PostfixFixture.HostName);

        Assert.Equal(SmtpFailureKind.CredentialsRejected, connect.Failure?.Kind);
        Assert.Equal(535, connect.Failure!.Reply?.Code);
        Assert.Equal("5.7.8", connect.Failure.Reply?.EnhancedStatusCode?.ToString());
    }

    [Theory]
    [InlineData(SmtpAuthMechanism.Plain, "C: AUTH PLAIN <user " + PostfixFixture.RelayUser + ", password masked>")]
    [InlineData(SmtpAuthMechanism.Login, "C: <password masked>")]
    [InlineData(SmtpAuthMechanism.ScramSha256, ",p=masked>")]
    public async Task The_trace_shows_the_AUTH_exchange_with_the_secret_masked(SmtpAuthMechanism mechanism, string masked)
    {
        var log = new ListLogger();
        await using var session = new SmtpSession(Options(SmtpTlsMode.Required, mechanism), log);

        var connect = await session.ConnectAsync(EndPoint(SmtpTlsMode.Required), PostfixFixture.HostName);
        await session.QuitAsync();

        Assert.True(connect.IsSuccess, connect + "\n" + postfix.ReadLog());
        var trace = log.Messages.Where(m => m.StartsWith("C: ", StringComparison.Ordinal) || m.StartsWith("S: ", StringComparison.Ordinal)).ToList();
        Assert.Contains(trace, l => l.Contains(masked, StringComparison.Ordinal));
        var secrets = new[]
        {
            PostfixFixture.RelayPassword,
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(PostfixFixture.RelayPassword)),
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("\0" + PostfixFixture.RelayUser + "\0" + PostfixFixture.RelayPassword)),
        };
        Assert.DoesNotContain(log.Messages, m => secrets.Any(s => m.Contains(s, StringComparison.Ordinal)));
        // SCRAM's proof is as good as the password for a replay within the exchange: never shown either.
        Assert.DoesNotContain(trace, l => System.Text.RegularExpressions.Regex.IsMatch(l, ",p=[A-Za-z0-9+/]{16,}"));
    }

    [Fact]
    public async Task The_mailer_s_relay_route_submits_through_Postfix_once_authenticated_and_names_the_relay()
    {
        var options = LoopbackMailerOptions.Create(25, o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.Relays["submission"] = postfix.SubmissionRelay(SmtpTlsMode.Required);
            o.Routes.Default = "submission";
        });
        await using var mailer = new DirectMailer(options, new TableResolver());

        var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", PostfixFixture.Recipient("via-relay-route")), SmtpContent.FromBytes(PostfixTestMessages.Message(PostfixFixture.Recipient("via-relay-route"), "relay", "Through the relay route.")));

        var r = report.Recipients[0];
        Assert.True(report.IsFullyDelivered, r + "\n" + postfix.ReadLog());
        Assert.Equal(DeliveryRoute.Relay, r.Route);
        // The report names the relay's own queue id, the one its log knows the authenticated submission by.
        Assert.NotNull(r.ServerQueueId);
        Assert.Contains($"queued as {r.ServerQueueId}", r.Reply!.Text, StringComparison.Ordinal);
        var line = postfix.ReadLog().Split('\n').Single(l => l.Contains($" {r.ServerQueueId}: client=", StringComparison.Ordinal));
        Assert.Contains($"sasl_username={PostfixFixture.RelayUser}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Three_sends_through_the_relay_route_share_one_connection_authenticated_once_with_CHUNKING()
    {
        const string local = "127.0.31.201"; // the mailer's own source address: its session is the one logged from there
        var options = LoopbackMailerOptions.Create(25, o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.LocalAddress = local;
            o.Relays["submission"] = postfix.SubmissionRelay(SmtpTlsMode.Implicit);
            o.Routes.Default = "submission";
        });
        await using (var mailer = new DirectMailer(options, new TableResolver()))
        {
            for (var i = 0; i < 3; i++)
            {
                var recipient = PostfixFixture.Recipient($"pooled-relay-{i}");
                var report = await mailer.SendAsync(new SmtpEnvelope("app@client.test", recipient), SmtpContent.FromBytes(PostfixTestMessages.Message(recipient, "pooled", "One of three through one connection.")));
                Assert.True(report.IsFullyDelivered, report.Recipients[0] + "\n" + postfix.ReadLog());
            }
        }

        // DisposeAsync said QUIT: smtpd logs the session's command counts when it ends.
        var summary = Assert.Single(await postfix.WaitForSessionsFromAsync(local));
        Assert.Contains(" auth=1 ", summary, StringComparison.Ordinal);
        Assert.Contains(" mail=3 ", summary, StringComparison.Ordinal);
        Assert.Contains(" rcpt=3 ", summary, StringComparison.Ordinal);
        Assert.Contains(" bdat=3 ", summary, StringComparison.Ordinal);
        Assert.Contains(" quit=1 ", summary, StringComparison.Ordinal);
    }

    private static string SaslName(SmtpAuthMechanism mechanism) => mechanism switch
    {
        SmtpAuthMechanism.Plain => "PLAIN",
        SmtpAuthMechanism.Login => "LOGIN",
        SmtpAuthMechanism.ScramSha1 => "SCRAM-SHA-1",
        _ => "SCRAM-SHA-256",
    };
}
