using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Cli;

/// <summary>
/// <c>directmail send --relay</c> as a process, against a scripted relay on 127.0.30.200:10465 (implicit TLS, AUTH
/// PLAIN, a self-signed certificate given with --relay-certificate): the relay gets the credentials from the password
/// file, the trace shows the AUTH exchange with the secret masked, and the report names the relay.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CliRelayTests : IAsyncLifetime
{
    private const string Password = "cli-relay-secret";
    private static readonly IPEndPoint EndPoint = new(IPAddress.Parse("127.0.30.200"), 10465);

    private readonly ConcurrentQueue<string> _auths = new();
    private readonly ConcurrentQueue<string> _beforeAuth = new();
    private readonly SmtpDialogue _dialogue = new() { DataAccepted = "250 2.0.0 Ok: queued as CLI1" };
    private readonly string _directory = Directory.CreateTempSubdirectory("directmail-cli-relay-").FullName;
    private ScriptedSmtpServer? _server;

    public Task InitializeAsync()
    {
        _server = ScriptedSmtpServer.Start(async c =>
        {
            await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            await c.ReplyAsync("220 relay.test ESMTP");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN");
            var line = await c.ReadLineAsync();
            if (line is null || !line.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase))
            {
                // A client that stops before AUTH (send --quit-after ehlo|tls): its last word is noted.
                if (line is not null)
                {
                    _beforeAuth.Enqueue(line);
                    await c.ReplyAsync("221 2.0.0 Bye");
                }

                return;
            }

            _auths.Enqueue(line);
            await c.ReplyAsync("235 2.7.0 Authentication successful");
            await _dialogue.RunAfterGreetingAsync(c);
        }, EndPoint);
        File.WriteAllText(Path.Combine(_directory, "relay.pem"), TestCertificates.SelfSigned.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "password"), Password + "\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Send_through_a_relay_authenticates_from_the_password_file_and_the_trace_masks_the_password()
    {
        var result = await SendThroughRelay("via the relay", "--trace");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0app@client.cli.test\0" + Password)), Assert.Single(_auths));
        Assert.Single(_dialogue.Messages);
        Assert.Contains("C: AUTH PLAIN <user app@client.cli.test, password masked>", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.StdOut + result.StdErr, StringComparison.Ordinal);
        Assert.Contains("someone@far.cli.test: delivered", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("via relay 127.0.30.200", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relay_whose_certificate_is_not_trusted_gets_no_credentials()
    {
        var result = await CliRunner.RunAsync(
            "send", "--from", "app@client.cli.test", "--to", "someone@far.cli.test", "--text", "x", "--helo", "client.cli.test",
            "--relay", EndPoint.ToString(), "--relay-tls", "implicit", "--auth-user", "app@client.cli.test", "--auth-password-file", Path.Combine(_directory, "password"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Empty(_auths);
        Assert.Empty(_dialogue.Messages);
        Assert.Contains("someone@far.cli.test: deferred", result.StdOut, StringComparison.Ordinal);
        // The tool hung up after the handshake it refused: not even EHLO went to the untrusted relay.
        await _server!.WaitForScriptFailureAsync();
    }

    [Fact]
    public async Task Quit_after_auth_authenticates_to_the_relay_and_sends_no_envelope()
    {
        var result = await SendThroughRelay("never sent", "--quit-after", "auth");

        Assert.True(result.ExitCode == 0, result.ToString());
        await _server!.WaitForScriptsAsync();
        Assert.Equal("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0app@client.cli.test\0" + Password)), Assert.Single(_auths));
        Assert.Equal(["QUIT"], _dialogue.Commands);
        Assert.Empty(_dialogue.Messages);
        var lines = result.StdOut.ReplaceLineEndings("\n").Split('\n');
        Assert.Matches(@"^connect: 127\.0\.30\.200 \[127\.0\.30\.200:10465\] from 127\.[0-9.:]+, Tls1[23] \(implicit TLS\)$", lines[0]);
        Assert.Contains("auth: authenticated as app@client.cli.test with Plain", lines);
        Assert.DoesNotContain(Password, result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quit_after_tls_on_an_implicit_TLS_relay_sends_no_credentials()
    {
        var result = await SendThroughRelay("x", "--quit-after", "tls");

        Assert.True(result.ExitCode == 0, result.ToString());
        await _server!.WaitForScriptsAsync();
        Assert.Empty(_auths);
        Assert.Equal(["QUIT"], _beforeAuth);
        Assert.Contains("ehlo: 250 relay.test / 250 PIPELINING / 250 AUTH LOGIN PLAIN", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("auth:", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_run_delivers_through_the_relay_with_the_same_flags_as_send()
    {
        var queue = Path.Combine(_directory, "queue");
        var enqueue = await CliRunner.RunAsync("send", "--from", "app@client.cli.test", "--to", "someone@far.cli.test", "--text", "queued for the relay", "--queue", queue);
        Assert.True(enqueue.ExitCode == 0, enqueue.ToString());

        var run = await CliRunner.RunAsync(
            "queue", "run", "--queue", queue, "--until-empty", "--helo", "client.cli.test",
            "--relay", EndPoint.ToString(), "--relay-tls", "implicit", "--relay-certificate", Path.Combine(_directory, "relay.pem"),
            "--auth-user", "app@client.cli.test", "--auth-password-file", Path.Combine(_directory, "password"), "--auth-mechanism", "PLAIN", "--route", "always");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0app@client.cli.test\0" + Password)), Assert.Single(_auths));
        Assert.Contains("queued for the relay", Encoding.UTF8.GetString(Assert.Single(_dialogue.Messages)), StringComparison.Ordinal);
        Assert.Contains(enqueue.StdOut.Trim() + " someone@far.cli.test: delivered, 250", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("via 127.0.30.200", run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_require_tls_through_a_validated_relay_that_offers_REQUIRETLS_puts_REQUIRETLS_on_MAIL_FROM()
    {
        // Stops: --require-tls --relay failing every message with 5.7.30 although the relay's certificate is the pinned
        // one and it offers REQUIRETLS, and the relay getting MAIL FROM without REQUIRETLS.
        var dialogue = new SmtpDialogue { DataAccepted = "250 2.0.0 Ok: queued as RTLS1" };
        await using var relay = ScriptedSmtpServer.Start(async c =>
        {
            await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            await c.ReplyAsync("220 relay.test ESMTP");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250-REQUIRETLS\r\n250 AUTH LOGIN PLAIN");
            await c.ExpectAsync("AUTH PLAIN ");
            await c.ReplyAsync("235 2.7.0 Authentication successful");
            await dialogue.RunAfterGreetingAsync(c);
        }, new IPEndPoint(IPAddress.Parse("127.0.42.19"), 10465));

        var result = await CliRunner.RunAsync(
            "send", "--from", "app@client.cli.test", "--to", "someone@far.cli.test", "--text", "only over validated TLS", "--helo", "client.cli.test", "--require-tls",
            "--relay", "127.0.42.19:10465", "--relay-tls", "implicit", "--relay-certificate", Path.Combine(_directory, "relay.pem"),
            "--auth-user", "app@client.cli.test", "--auth-password-file", Path.Combine(_directory, "password"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("MAIL FROM:<app@client.cli.test> REQUIRETLS", dialogue.Commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Contains("only over validated TLS", Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)), StringComparison.Ordinal);
        Assert.Contains("someone@far.cli.test: delivered", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_require_tls_through_a_relay_the_system_store_trusts_puts_REQUIRETLS_on_MAIL_FROM_and_an_unknown_authority_gets_nothing()
    {
        // Stops: a relay validated by the system's authorities (the default ValidateCertificate: no pinned certificate,
        // no callback) being refused for REQUIRETLS; and, the control, a relay whose authority the system does not know
        // getting the message anyway. The system store is OpenSSL's, which .NET reads from SSL_CERT_FILE and SSL_CERT_DIR
        // when they are set: the first run is given a store holding the test authority only, the second the machine's.
        using var authority = new DirectMail.Tests.Security.MtaSts.TestCertificateAuthority("DirectMail Relay Test CA");
        var address = IPAddress.Parse("127.0.42.20");
        using var certificate = authority.IssueForAddress(address);
        var dialogue = new SmtpDialogue { DataAccepted = "250 2.0.0 Ok: queued as RTLS2" };
        var ehlos = 0;
        var connections = 0;
        await using var relay = ScriptedSmtpServer.Start(async c =>
        {
            System.Threading.Interlocked.Increment(ref connections);
            try
            {
                // The server's side of a TLS 1.3 handshake can complete before the client has checked the certificate:
                // a client that refuses it closes the connection then, before any SMTP line.
                await c.StartTlsAsServerAsync(certificate);
                await c.ReplyAsync("220 relay.test ESMTP");
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                return;
            }

            if (await c.ReadLineAsync() is not { } ehlo)
            {
                return;
            }

            Assert.StartsWith("EHLO", ehlo, StringComparison.OrdinalIgnoreCase);
            System.Threading.Interlocked.Increment(ref ehlos);
            await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250 REQUIRETLS");
            await dialogue.RunAfterGreetingAsync(c);
        }, new IPEndPoint(address, 10465));
        string[] args = ["send", "--from", "app@client.cli.test", "--to", "someone@far.cli.test", "--text", "trusted by the system store", "--helo", "client.cli.test", "--require-tls",
            "--relay", "127.0.42.20:10465", "--relay-tls", "implicit", "--retries", "0"];
        var emptyDirectory = Directory.CreateDirectory(Path.Combine(_directory, "no-more-certificates")).FullName;

        var trusted = await CliRunner.RunWithEnvironmentAsync(new Dictionary<string, string> { ["SSL_CERT_FILE"] = authority.PemFile, ["SSL_CERT_DIR"] = emptyDirectory }, args);

        Assert.True(trusted.ExitCode == 0, trusted.ToString());
        Assert.Equal("MAIL FROM:<app@client.cli.test> REQUIRETLS", dialogue.Commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Contains("trusted by the system store", Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)), StringComparison.Ordinal);
        Assert.Contains("someone@far.cli.test: delivered", trusted.StdOut, StringComparison.Ordinal);
        Assert.Equal(1, ehlos);

        var untrusted = await CliRunner.RunAsync(args);

        Assert.True(untrusted.ExitCode == ExitCodeTryAgainLater, untrusted.ToString());
        Assert.Contains("someone@far.cli.test: deferred", untrusted.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, connections); // it was tried...
        Assert.Equal(1, ehlos); // ...and the client refused the certificate: no EHLO, no MAIL, nothing sent
        Assert.Single(dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
        Assert.Single(dialogue.Messages);
    }

    // EX_TEMPFAIL (sysexits.h): what the CLI returns when a recipient is deferred.
    private const int ExitCodeTryAgainLater = 75;

    [Fact]
    public async Task Send_require_tls_through_a_relay_that_does_not_offer_REQUIRETLS_fails_5_7_30_and_sends_no_MAIL()
    {
        // Stops: the message going to a relay that would pass it on without REQUIRETLS (RFC 8689 section 4.2.1).
        var result = await SendThroughRelay("never sent", "--require-tls");

        Assert.True(result.ExitCode == 69, result.ToString());
        Assert.Single(_auths); // validated and authenticated: only REQUIRETLS was missing
        Assert.Empty(_dialogue.Messages);
        Assert.DoesNotContain(_dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("someone@far.cli.test: failed, 550 5.7.30 REQUIRETLS is set and 127.0.30.200 does not offer REQUIRETLS (RFC 8689).", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--auth-user", "u")]
    [InlineData("--route", "fallback")]
    public async Task Queue_run_relay_flags_without_a_relay_are_usage_errors(string option, string value)
    {
        var result = await CliRunner.RunAsync("queue", "run", "--queue", Path.Combine(_directory, "queue"), "--until-empty", "--helo", "client.cli.test", option, value);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, $"directmail queue run: {option} applies to a relay: it needs --relay.");
        Assert.Empty(_auths);
    }

    /// <summary>send through the relay with its certificate and the password file, and <paramref name="more"/>.</summary>
    private Task<CliResult> SendThroughRelay(string text, params string[] more) => CliRunner.RunAsync(
    [
        "send", "--from", "app@client.cli.test", "--to", "someone@far.cli.test", "--text", text, "--helo", "client.cli.test",
        "--relay", EndPoint.ToString(), "--relay-tls", "implicit", "--relay-certificate", Path.Combine(_directory, "relay.pem"),
        "--auth-user", "app@client.cli.test", "--auth-password-file", Path.Combine(_directory, "password"), .. more,
    ]);

    [Fact]
    public async Task Auth_flags_without_a_relay_or_without_their_secret_are_usage_errors()
    {
        var withoutRelay = await CliRunner.RunAsync("send", "--from", "a@client.cli.test", "--to", "b@far.cli.test", "--text", "x", "--auth-user", "u");
        var withoutSecret = await CliRunner.RunAsync("send", "--from", "a@client.cli.test", "--to", "b@far.cli.test", "--text", "x", "--relay", "smtp.example.net", "--auth-user", "u");

        Assert.Contains("--auth-user applies to a relay: it needs --relay.", withoutRelay.StdErr, StringComparison.Ordinal);
        Assert.Contains("--auth-user goes with --auth-password-file or --auth-token-file", withoutSecret.StdErr, StringComparison.Ordinal);
        Assert.Equal(withoutRelay.ExitCode, withoutSecret.ExitCode);
        Assert.NotEqual(0, withoutRelay.ExitCode);
    }
}
