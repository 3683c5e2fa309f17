using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Routing;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Routing;

/// <summary>
/// The relay replies submission services give about credentials and sender rights (Microsoft 365's, Postfix's), each
/// answered by a scripted relay (implicit TLS, pinned certificate, on 127.0.31.150 and up): the report's hint says what
/// to fix, and nothing is sent unauthenticated after a refused AUTH.
/// </summary>
public sealed class RelayHintTests
{
    private const int RelayPort = 10465;
    private static int _nextAddress = 149;

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.31.{Interlocked.Increment(ref _nextAddress)}");

    /// <param name="authReply">The reply to AUTH; null for a relay used without credentials.</param>
    /// <param name="mailReply">The reply to MAIL; null for the usual 250.</param>
    private static async Task<(RecipientDelivery Recipient, string[] Commands)> SendAsync(string? authReply, string? mailReply)
    {
        var address = NewAddress();
        var commands = new ConcurrentQueue<string>();
        var dialogue = new SmtpDialogue { Respond = l => l.StartsWith("MAIL", StringComparison.Ordinal) ? mailReply : null };
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            await c.ReplyAsync("220 relay.test ESMTP");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH LOGIN PLAIN XOAUTH2");
            if (authReply is not null)
            {
                commands.Enqueue((await c.ExpectAsync("AUTH"))[..10]);
                await c.ReplyAsync(authReply);
            }

            await dialogue.RunAfterGreetingAsync(c);
        }, new IPEndPoint(address, RelayPort));
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(25, o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.Relays["m365"] = new SmtpRelayOptions
            {
                Hosts = { $"{address}:{RelayPort}" },
                TlsMode = SmtpTlsMode.Implicit,
                UserName = authReply is null ? null : "app@client.test",
                Password = authReply is null ? null : "secret",
                CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
            };
            o.Routes.Default = "m365";
        }), new TableResolver());

        var report = await mailer.SendAsync(new SmtpEnvelope("sales@client.test", "someone@far.test"), SmtpContent.FromBytes("Subject: hi\r\n\r\nx\r\n"u8.ToArray()));
        await mailer.DisposeAsync();
        await server.WaitForScriptsAsync();
        return (report.Recipients[0], [.. commands, .. dialogue.Commands]);
    }

    [Fact]
    public async Task A_535_5_7_8_says_the_credentials_were_refused_and_no_MAIL_follows()
    {
        var (r, commands) = await SendAsync("535 5.7.8 Error: authentication failed: authentication failure", null);

        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal("5.7.8", r.Reply?.EnhancedStatusCode?.ToString());
        Assert.Equal("The relay refused the credentials (535 5.7.8): check the relay's UserName and Password, or that the OAuth token is for this user and has the SMTP scope.", r.Hint);
        Assert.Equal(new[] { "AUTH PLAIN", "QUIT" }, commands);
    }

    [Fact]
    public async Task A_5_7_139_says_SMTP_AUTH_is_disabled_for_the_mailbox_and_no_MAIL_follows()
    {
        var (r, commands) = await SendAsync("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.", null);

        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal("5.7.139", r.Reply?.EnhancedStatusCode?.ToString());
        Assert.Equal("SMTP AUTH is disabled for this mailbox (5.7.139, Microsoft 365): enable authenticated SMTP for it, or authenticate with an OAuth token (XOAUTH2).", r.Hint);
        Assert.DoesNotContain(commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_530_5_7_57_to_MAIL_says_the_relay_wants_authentication()
    {
        var (r, commands) = await SendAsync(null, "530 5.7.57 Client not authenticated to send mail. [SN4PR0601CA0012.namprd06.prod.outlook.com]");

        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal("5.7.57", r.Reply?.EnhancedStatusCode?.ToString());
        Assert.Equal("The relay requires authentication (530 5.7.57): set the relay's UserName and Password (or a token provider).", r.Hint);
        Assert.Equal("MAIL FROM:<sales@client.test>", commands.First(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_550_5_7_60_to_MAIL_says_this_user_may_not_send_as_this_sender()
    {
        var (r, commands) = await SendAsync("235 2.7.0 Authentication successful", "550 5.7.60 SMTP; Client does not have permissions to send as this sender");

        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal("5.7.60", r.Reply?.EnhancedStatusCode?.ToString());
        Assert.Equal("The relay does not let this user send as this sender (550 5.7.60): send from the authenticated mailbox's address, or grant it the right to send as the sender.", r.Hint);
        Assert.Equal("AUTH PLAIN", commands[0]);
    }
}
