using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// SMTP AUTH (RFC 4954) in the session, against scripted relays with a self-signed certificate pinned by the test's
/// callback: what the server received is what is asserted (the credentials, or that none arrived).
/// </summary>
public sealed class SmtpSessionAuthTests
{
    private const string Password = "s3cr3t-pa55";

    private static SmtpSessionOptions Options(SmtpCredentials credentials, SmtpTlsMode mode = SmtpTlsMode.Required, Action<SmtpSessionOptions>? configure = null) => SmtpSessionConnectTests.Options(o =>
    {
        o.Timeouts.Command = TimeSpan.FromSeconds(30);
        o.TlsMode = mode;
        o.Credentials = credentials;
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        o.CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned;
        configure?.Invoke(o);
    });

    /// <summary>A relay: greeting, EHLO with STARTTLS (or implicit TLS first), EHLO again with AUTH, then the AUTH script, then a dialogue.</summary>
    private static Func<ScriptedConnection, Task> Relay(string auth, Func<ScriptedConnection, Task> authScript, ConcurrentQueue<string> received, bool implicitTls = false, bool offerStartTls = true)
    {
        return async c =>
        {
            if (implicitTls)
            {
                await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            }

            await c.ReplyAsync("220 relay.test ESMTP");
            received.Enqueue(await c.ExpectAsync("EHLO"));
            if (!implicitTls)
            {
                // A relay (or a man in the middle) that strips STARTTLS still offers AUTH in plaintext.
                await c.ReplyAsync(offerStartTls ? "250-relay.test\r\n250-AUTH PLAIN\r\n250 STARTTLS" : "250-relay.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN");
                if (!offerStartTls)
                {
                    while (await c.ReadLineAsync() is { } line)
                    {
                        received.Enqueue(line);
                        await c.ReplyAsync(line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase) ? "221 bye" : "530 5.7.0 Must issue a STARTTLS command first");
                    }

                    return;
                }

                await c.ExpectAsync("STARTTLS");
                await c.ReplyAsync("220 2.0.0 go ahead");
                await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
                await c.ExpectAsync("EHLO");
            }

            await c.ReplyAsync("250-relay.test\r\n250-PIPELINING\r\n250-AUTH " + auth + "\r\n250 8BITMIME");
            await authScript(c);
            var dialogue = new SmtpDialogue();
            await dialogue.RunAfterGreetingAsync(c);
            foreach (var command in dialogue.Commands)
            {
                received.Enqueue(command);
            }
        };
    }

    private static Func<ScriptedConnection, Task> Lines(ConcurrentQueue<string> received, params string[] replies) => async c =>
    {
        foreach (var reply in replies)
        {
            received.Enqueue(await c.ReadLineAsync() ?? "<closed>");
            await c.ReplyAsync(reply);
        }
    };

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task<SmtpTransactionResult> SendOneAsync(SmtpSession session) =>
        await session.SendAsync(new SmtpEnvelope("app@client.test", "someone@far.test"), SmtpContent.FromBytes("Subject: relay\r\n\r\nx\r\n"u8.ToArray()));

    [Fact]
    public async Task After_STARTTLS_the_session_authenticates_with_PLAIN_and_the_trace_masks_the_password()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("LOGIN PLAIN", Lines(received, "235 2.7.0 Authentication successful"), received));
        var log = new ListLogger();
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("app@client.test", Password)), log);

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(SmtpAuthMechanism.Plain, session.AuthMechanism);
        Assert.True((await SendOneAsync(session)).IsDelivered);
        await session.QuitAsync();
        await server.WaitForScriptsAsync();
        Assert.Contains("AUTH PLAIN " + B64("\0app@client.test\0" + Password), received);
        Assert.DoesNotContain(log.Messages, m => m.Contains(Password, StringComparison.Ordinal) || m.Contains(B64("\0app@client.test\0" + Password), StringComparison.Ordinal));
        Assert.Contains(log.Messages, m => m.Contains("C: AUTH PLAIN <user app@client.test, password masked>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Implicit_TLS_reads_the_greeting_over_TLS_and_LOGIN_answers_both_prompts()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("LOGIN", Lines(received, "334 " + B64("Username:"), "334 " + B64("Password:"), "235 2.7.0 ok"), received, implicitTls: true));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("tim", Password), SmtpTlsMode.Implicit));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(session.IsEncrypted);
        await session.QuitAsync();
        await server.WaitForScriptsAsync();
        Assert.Equal(new[] { "AUTH LOGIN", B64("tim"), B64(Password) }, received.Skip(1).Take(3));
    }

    [Fact]
    public async Task A_relay_that_strips_STARTTLS_gets_no_credentials_and_no_mail()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("PLAIN", _ => Task.CompletedTask, received, offerStartTls: false));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("tim", Password)));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.TlsUnavailable, result.Failure?.Kind);
        await server.WaitForScriptsAsync();
        Assert.Equal(new[] { "EHLO client.test", "QUIT" }, received);
    }

    [Fact]
    public async Task A_certificate_that_does_not_validate_ends_the_connection_before_any_credentials()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            try
            {
                await Relay("PLAIN", Lines(received, "235 ok"), received)(c);
            }
            catch (Exception e) when (e is System.IO.IOException or System.Security.Authentication.AuthenticationException or InvalidOperationException)
            {
                // The client refused the handshake.
            }
        });

        // The platform's validation (no pinning): a self-signed certificate for mx.test is not valid for relay.test.
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("tim", Password), configure: o => o.CertificateValidationCallback = null));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.TlsHandshakeFailed, result.Failure?.Kind);
        await server.WaitForScriptsAsync();
        Assert.DoesNotContain(received, l => l.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Wrong_credentials_are_a_CredentialsRejected_failure_and_no_mail_follows()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("PLAIN", Lines(received, "535 5.7.8 Error: authentication failed: authentication failure", "221 bye"), received));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("tim", "wrong")));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.CredentialsRejected, result.Failure?.Kind);
        Assert.Equal(SmtpPhase.Authenticate, result.Failure!.Phase);
        Assert.Equal("5.7.8", result.Failure.Reply?.EnhancedStatusCode?.ToString());
        Assert.False(result.Failure.IsTransient);
        Assert.False(session.IsUsable);
        await server.WaitForScriptsAsync();
        Assert.Equal("QUIT", received.Last());
    }

    [Fact]
    public async Task A_454_to_AUTH_is_a_temporary_AuthenticationDeferred_failure()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("PLAIN", Lines(received, "454 4.7.0 Temporary authentication failure", "221 bye"), received));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("tim", Password)));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.AuthenticationDeferred, result.Failure?.Kind);
        Assert.True(result.Failure!.IsTransient);
    }

    [Fact]
    public async Task A_relay_without_a_common_mechanism_gets_nothing_and_the_session_does_not_send_unauthenticated()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("CRAM-MD5 GSSAPI", Lines(received, "221 bye"), received));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("tim", Password)));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.AuthenticationUnavailable, result.Failure?.Kind);
        Assert.Contains("CRAM-MD5 GSSAPI", result.Failure!.Message, StringComparison.Ordinal);
        await server.WaitForScriptsAsync();
        Assert.Equal("QUIT", received.Last());
        Assert.DoesNotContain(received, l => l.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase) || l.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Credentials_without_required_and_validated_TLS_are_refused_when_the_options_are_checked()
    {
        var credentials = SmtpCredentials.FromPassword("tim", Password);

        var opportunistic = Assert.Throws<ArgumentException>(() => new SmtpSession(Options(credentials, SmtpTlsMode.Opportunistic)));
        Assert.Contains("Credentials", opportunistic.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new SmtpSession(Options(credentials, configure: o =>
        {
            o.CertificateValidationCallback = null;
            o.ValidateCertificate = false;
        })));
    }

    [Fact]
    public async Task SCRAM_SHA_256_proves_both_sides_against_a_server_that_knows_the_password()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("PLAIN SCRAM-SHA-1 SCRAM-SHA-256", async c =>
        {
            // The server side of RFC 7677, computed with the same password.
            var line = await c.ExpectAsync("AUTH SCRAM-SHA-256 ");
            received.Enqueue(line);
            var clientFirst = Encoding.UTF8.GetString(Convert.FromBase64String(line["AUTH SCRAM-SHA-256 ".Length..]));
            var bare = clientFirst["n,,".Length..];
            var nonce = bare[(bare.IndexOf("r=", StringComparison.Ordinal) + 2)..] + "srvnonce";
            var salt = "c2FsdHNhbHQ=";
            var serverFirst = $"r={nonce},s={salt},i=4096";
            await c.ReplyAsync("334 " + B64(serverFirst));
            var clientFinal = Encoding.UTF8.GetString(Convert.FromBase64String(await c.ReadLineAsync() ?? string.Empty));
            var withoutProof = clientFinal[..clientFinal.IndexOf(",p=", StringComparison.Ordinal)];
            var salted = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Password), Convert.FromBase64String(salt), 4096, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
            var auth = Encoding.UTF8.GetBytes(bare + "," + serverFirst + "," + withoutProof);
            var clientKey = System.Security.Cryptography.HMACSHA256.HashData(salted, "Client Key"u8);
            var signature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.SHA256.HashData(clientKey), auth);
            var proof = Convert.FromBase64String(clientFinal[(clientFinal.IndexOf(",p=", StringComparison.Ordinal) + 3)..]);
            var recovered = proof.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray();
            Assert.Equal(clientKey, recovered);
            var serverSignature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.HMACSHA256.HashData(salted, "Server Key"u8), auth);
            await c.ReplyAsync("334 " + B64("v=" + Convert.ToBase64String(serverSignature)));
            Assert.Equal(string.Empty, await c.ReadLineAsync());
            await c.ReplyAsync("235 2.7.0 ok");
        }, received));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("user", Password)));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(SmtpAuthMechanism.ScramSha256, session.AuthMechanism);
        await session.QuitAsync();
        await server.WaitForScriptsAsync();
        Assert.Null(server.ScriptError);
    }

    [Fact]
    public async Task A_SCRAM_server_with_the_wrong_signature_is_refused_even_though_it_says_235()
    {
        var received = new ConcurrentQueue<string>();
        await using var server = ScriptedSmtpServer.Start(Relay("SCRAM-SHA-1", async c =>
        {
            var line = await c.ExpectAsync("AUTH SCRAM-SHA-1 ");
            var bare = Encoding.UTF8.GetString(Convert.FromBase64String(line["AUTH SCRAM-SHA-1 ".Length..]))["n,,".Length..];
            var nonce = bare[(bare.IndexOf("r=", StringComparison.Ordinal) + 2)..] + "x";
            await c.ReplyAsync("334 " + B64($"r={nonce},s=c2FsdA==,i=16"));
            await c.ReadLineAsync();
            await c.ReplyAsync("334 " + B64("v=" + Convert.ToBase64String(new byte[20])));
            received.Enqueue(await c.ReadLineAsync() ?? "<closed>");
            await c.ReplyAsync("501 5.7.0 cancelled");
            received.Enqueue(await c.ReadLineAsync() ?? "<closed>");
            await c.ReplyAsync("221 bye");
        }, received));
        await using var session = new SmtpSession(Options(SmtpCredentials.FromPassword("user", Password)));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.CredentialsRejected, result.Failure?.Kind);
        Assert.Contains("signature is wrong", result.Failure!.Message, StringComparison.Ordinal);
        await server.WaitForScriptsAsync();
        Assert.Equal(new[] { "*", "QUIT" }, received.Skip(1).Take(2));
    }

    [Fact]
    public async Task An_expired_XOAUTH2_token_is_refreshed_once_and_the_fresh_token_authenticates()
    {
        var received = new ConcurrentQueue<string>();
        var error = B64("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}");
        await using var server = ScriptedSmtpServer.Start(Relay("XOAUTH2", Lines(received, "334 " + error, "535 5.7.8 Username and Password not accepted", "235 2.7.0 Accepted"), received));
        var calls = new ConcurrentQueue<bool>();
        var credentials = SmtpCredentials.FromOAuthToken("app@client.test", (user, refresh, _) =>
        {
            calls.Enqueue(refresh);
            return ValueTask.FromResult(refresh ? "fresh-token" : "stale-token");
        });
        await using var session = new SmtpSession(Options(credentials));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(new[] { false, true }, calls);
        await session.QuitAsync();
        await server.WaitForScriptsAsync();
        Assert.Equal(new[]
        {
            "AUTH XOAUTH2 " + B64("user=app@client.test\u0001auth=Bearer stale-token\u0001\u0001"),
            string.Empty,
            "AUTH XOAUTH2 " + B64("user=app@client.test\u0001auth=Bearer fresh-token\u0001\u0001"),
        }, received.Skip(1).Take(3));
    }

    [Fact]
    public async Task An_OAUTHBEARER_token_refused_twice_is_CredentialsRejected_after_one_refresh()
    {
        var received = new ConcurrentQueue<string>();
        var error = "334 " + B64("{\"status\":\"invalid_token\"}");
        await using var server = ScriptedSmtpServer.Start(Relay("OAUTHBEARER XOAUTH2", Lines(received, error, "535 5.7.8 no", error, "535 5.7.8 no", "221 bye"), received));
        var calls = 0;
        await using var session = new SmtpSession(Options(SmtpCredentials.FromOAuthToken("u@client.test", (_, _, _) =>
        {
            calls++;
            return ValueTask.FromResult("token" + calls);
        })));

        var result = await session.ConnectAsync(server.EndPoint, "relay.test");

        Assert.Equal(SmtpFailureKind.CredentialsRejected, result.Failure?.Kind);
        Assert.Equal(2, calls);
        await server.WaitForScriptsAsync();
        Assert.Equal(new[] { B64("n,a=u@client.test,\u0001auth=Bearer token1\u0001\u0001"), "AQ==" }, received.Skip(1).Take(2).Select(l => l.Replace("AUTH OAUTHBEARER ", string.Empty, StringComparison.Ordinal)));
    }
}
