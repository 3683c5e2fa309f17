using System;
using System.Security.Authentication;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>STARTTLS (RFC 3207) in each mode, against scripted servers with a self-signed certificate.</summary>
public sealed class SmtpSessionTlsTests
{
    /// <summary>
    /// The connect tests' options with a 30 s handshake budget: no test here waits for a handshake to time out, and
    /// the first handshake of a run (certificate generation, crypto loading) can take seconds on a loaded 2-core machine.
    /// </summary>
    private static SmtpSessionOptions TlsOptions(Action<SmtpSessionOptions> configure) => SmtpSessionConnectTests.Options(o =>
    {
        o.Timeouts.Command = TimeSpan.FromSeconds(30);
        configure(o);
    });

    private const string EhloWithStartTls = "250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME";

    /// <summary>A server that offers STARTTLS, upgrades, and then answers a second EHLO with other extensions.</summary>
    private static Func<ScriptedConnection, Task> TlsServer(string startTlsReply = "220 2.0.0 Ready to start TLS", string? injected = null, bool failHandshake = false)
    {
        return async c =>
        {
            await c.ReplyAsync("220 mx.test ESMTP");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync(EhloWithStartTls);
            await c.ExpectAsync("STARTTLS");
            if (!startTlsReply.StartsWith("220", StringComparison.Ordinal))
            {
                await c.ReplyAsync(startTlsReply);
                await new SmtpDialogue().RunAfterGreetingAsync(c);
                return;
            }

            // An attacker (or the server) appends plaintext replies to the 220 in the same packet.
            await c.SendAsync(startTlsReply + "\r\n" + (injected ?? string.Empty));
            if (failHandshake)
            {
                await c.SendAsync("this is not a TLS server hello\r\n");
                c.Close();
                return;
            }

            await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-mx.test after TLS\r\n250-PIPELINING\r\n250-SIZE 5000\r\n250 SMTPUTF8");
            await new SmtpDialogue().RunAfterGreetingAsync(c);
        };
    }

    [Fact]
    public async Task Opportunistic_mode_upgrades_to_TLS_with_a_self_signed_certificate_and_says_EHLO_again()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer());
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Opportunistic));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(session.IsEncrypted);
        Assert.NotNull(session.TlsProtocol);
        Assert.Equal("mx.test", session.Capabilities.ServerDomain);
        Assert.True(session.Capabilities.Supports(SmtpExtensions.SmtpUtf8));
        Assert.False(session.Capabilities.Supports(SmtpExtensions.StartTls));
        Assert.Equal(5000, session.Capabilities.MaxMessageSize);
        var delivered = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes("Subject: tls\r\n\r\nx\r\n"u8.ToArray()));
        Assert.True(delivered.IsDelivered);
    }

    [Fact]
    public async Task Replies_injected_before_the_TLS_handshake_are_discarded()
    {
        // Stops: STARTTLS command/reply injection (CVE-2011-0411 class): plaintext sent before the handshake
        // must not be read as the encrypted server's reply to the EHLO that follows it.
        await using var server = ScriptedSmtpServer.Start(TlsServer(injected: "250-mx.test\r\n250 INJECTED-EXTENSION\r\n"));
        var logger = new ListLogger();
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Opportunistic), logger);

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.False(session.Capabilities.Keywords.ContainsKey("INJECTED-EXTENSION"));
        Assert.Equal(5000, session.Capabilities.MaxMessageSize);
        Assert.Contains(logger.Messages, m => m.Contains("possible reply injection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Opportunistic_mode_stays_in_plaintext_when_STARTTLS_is_not_offered()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Opportunistic));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess);
        Assert.False(session.IsEncrypted);
    }

    [Fact]
    public async Task Opportunistic_mode_goes_on_in_plaintext_when_STARTTLS_is_refused()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer(startTlsReply: "454 4.7.0 TLS not available due to local problem"));
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Opportunistic));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.False(session.IsEncrypted);
        var delivered = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes("Subject: plain\r\n\r\nx\r\n"u8.ToArray()));
        Assert.True(delivered.IsDelivered);
    }

    [Fact]
    public async Task Required_mode_fails_when_STARTTLS_is_not_offered_and_says_QUIT()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Required));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpFailureKind.TlsUnavailable, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.StartTls, result.Failure.Phase);
        Assert.Equal(new[] { "EHLO client.test", "QUIT" }, dialogue.Commands);
    }

    [Fact]
    public async Task Required_mode_fails_when_STARTTLS_is_refused()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer(startTlsReply: "454 4.7.0 TLS not available"));
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Required));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.Equal(SmtpFailureKind.TlsUnavailable, result.Failure!.Kind);
        Assert.Equal(454, result.Failure.Reply!.Code);
    }

    [Fact]
    public async Task Required_mode_validates_the_certificate_and_refuses_a_self_signed_one()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer());
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Required));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.Equal(SmtpFailureKind.TlsHandshakeFailed, result.Failure!.Kind);
        Assert.IsType<AuthenticationException>(result.Failure.Exception);
        Assert.True(result.Failure.IsTransient, "the caller may try another host");
        Assert.False(session.IsUsable);
        // The client hung up after the refused handshake: no EHLO, nothing in the clear, on the connection it distrusts.
        // (The script fails at the handshake or at its EHLO, whichever the client's hang-up reaches first.)
        await server.WaitForScriptFailureAsync();
    }

    [Fact]
    public async Task Required_mode_without_validation_accepts_a_self_signed_certificate()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer());
        await using var session = new SmtpSession(TlsOptions(o =>
        {
            o.TlsMode = SmtpTlsMode.Required;
            o.ValidateCertificate = false;
        }));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(session.IsEncrypted);
    }

    [Fact]
    public async Task Required_mode_uses_the_callers_validation_callback()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer());
        string? seenSubject = null;
        await using var session = new SmtpSession(TlsOptions(o =>
        {
            o.TlsMode = SmtpTlsMode.Required;
            o.CertificateValidationCallback = (_, certificate, _, _) =>
            {
                seenSubject = certificate?.Subject;
                return true;
            };
        }));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("CN=mx.test", seenSubject);
    }

    [Fact]
    public async Task Failed_handshake_is_a_typed_result()
    {
        await using var server = ScriptedSmtpServer.Start(TlsServer(failHandshake: true));
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.Opportunistic));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.Equal(SmtpFailureKind.TlsHandshakeFailed, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.StartTls, result.Failure.Phase);
        Assert.False(session.IsUsable);
    }

    [Fact]
    public async Task None_mode_never_says_STARTTLS()
    {
        var dialogue = new SmtpDialogue { EhloReply = EhloWithStartTls };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(TlsOptions(o => o.TlsMode = SmtpTlsMode.None));

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess);
        Assert.DoesNotContain("STARTTLS", dialogue.Commands);
    }
}
