using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Security;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Promises;

/// <summary>
/// README, "The SMTP session" and "Fallback, retries and pooling": STARTTLS through <see cref="DirectMailer"/> end to
/// end, against scripted servers (127.0.124.x) that upgrade with a self-signed certificate: opportunistic encryption,
/// <c>Required</c> refusing a certificate for another name, and the plaintext retry after a failed handshake.
/// </summary>
public sealed class StartTlsPromiseTests
{
    private const int Port = 10124;
    private static int _nextAddress = 10;

    private static readonly byte[] Message = "Subject: tls\r\nMessage-ID: <tls@client.test>\r\n\r\nSecret.\r\n"u8.ToArray();

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.124.{Interlocked.Increment(ref _nextAddress)}");

    /// <summary>Loopback mailer options with the given TLS mode; the handshake gets 30 s (the first of a run is slow on a loaded machine).</summary>
    private static DirectMailOptions TlsOptions(SmtpTlsMode mode) => LoopbackMailerOptions.Create(Port, o =>
    {
        o.TlsMode = mode;
        o.Timeouts.Command = TimeSpan.FromSeconds(30);
        o.SendTimeout = TimeSpan.FromSeconds(50);
    });

    /// <summary>
    /// What one connection of a STARTTLS server saw: the command lines before the upgrade, whether the upgrade happened,
    /// and the lines after it (decrypted).
    /// </summary>
    private sealed class ConnectionLog
    {
        public ConcurrentQueue<string> Plaintext { get; } = new();

        public bool Encrypted { get; set; }
    }

    /// <summary>
    /// A server that offers STARTTLS on every connection. With <paramref name="failFirstHandshake"/> the first connection
    /// answers 220 to STARTTLS and then sends garbage instead of a TLS server hello (a broken TLS stack, a middlebox).
    /// Commands outside TLS go to the connection's log; after the upgrade, <paramref name="dialogue"/> answers (its
    /// Messages are what arrived inside TLS).
    /// </summary>
    private static Func<ScriptedConnection, Task> StartTlsServer(
        SmtpDialogue dialogue,
        ConcurrentQueue<ConnectionLog> connections,
        System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
        bool failFirstHandshake = false)
    {
        var count = 0;
        return async c =>
        {
            var log = new ConnectionLog();
            connections.Enqueue(log);
            var number = Interlocked.Increment(ref count);
            await c.ReplyAsync("220 mx.test ESMTP");
            log.Plaintext.Enqueue(await c.ExpectAsync("EHLO"));
            await c.ReplyAsync("250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES");
            var line = await c.ReadLineAsync();
            if (line is null)
            {
                return;
            }

            log.Plaintext.Enqueue(line);
            if (!line.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase))
            {
                // A client that does not upgrade: the rest of the conversation is in plaintext, recorded as such.
                await c.ReplyAsync(line.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase) ? "250 2.1.0 Ok" : "502 5.5.2 Error: command not recognized");
                var plain = new SmtpDialogue { Respond = l => { log.Plaintext.Enqueue(l); return null; } };
                await plain.RunAfterGreetingAsync(c);
                foreach (var m in plain.Messages)
                {
                    dialogue.Messages.Enqueue(m); // counted with the others: a copy is a copy
                }

                return;
            }

            await c.ReplyAsync("220 2.0.0 Ready to start TLS");
            if (failFirstHandshake && number == 1)
            {
                await c.SendAsync("this is not a TLS server hello\r\n");
                c.Close();
                return;
            }

            await c.StartTlsAsServerAsync(certificate);
            log.Encrypted = true;
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-mx.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES");
            await dialogue.RunAfterGreetingAsync(c);
        };
    }

    [Fact]
    public async Task Opportunistic_TLS_upgrades_with_STARTTLS_and_the_message_arrives_inside_TLS()
    {
        // Stops: a mailer that ignores the offered STARTTLS (the message crosses the network readable), or that sends
        // the envelope before the upgrade.
        var dialogue = new SmtpDialogue();
        var connections = new ConcurrentQueue<ConnectionLog>();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(StartTlsServer(dialogue, connections, TestCertificates.Create("other.example")), new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["o.test"] = [("mx.o.test", 10, address)] };
        await using var mailer = new DirectMailer(TlsOptions(SmtpTlsMode.Opportunistic), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@o.test"), SmtpContent.FromBytes(Message)).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("250 2.0.0 Ok: queued as 4XyZ", r.Reply!.ToString());
        Assert.Equal(TlsPostureKind.Unauthenticated, r.Tls!.Kind); // a certificate for another name is fine when opportunistic
        Assert.NotNull(r.Tls.Protocol);
        var connection = Assert.Single(connections);
        Assert.True(connection.Encrypted);
        Assert.Equal(["EHLO client.test.example", "STARTTLS"], connection.Plaintext);   // nothing of the envelope in plaintext
        Assert.Equal("MAIL FROM:<me@client.test>", dialogue.Commands.First()); // the envelope went inside TLS
        Assert.Equal(Message, Assert.Single(dialogue.Messages));
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Required_TLS_refuses_a_certificate_for_another_name_and_sends_nothing()
    {
        // Stops: Required mode accepting any certificate (an active attacker's), or falling back to plaintext after the
        // refusal: the server must see no MAIL command, inside or outside TLS, and only one connection.
        var dialogue = new SmtpDialogue();
        var connections = new ConcurrentQueue<ConnectionLog>();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(StartTlsServer(dialogue, connections, TestCertificates.Create("other.example")), new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["r.test"] = [("mx.r.test", 10, address)] };
        await using var mailer = new DirectMailer(TlsOptions(SmtpTlsMode.Required), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@r.test"), SmtpContent.FromBytes(Message)).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Null(r.Reply);               // no server reply decided: the client refused the certificate
        Assert.Equal("mx.r.test", r.MxHost);
        Assert.Equal(address, r.ServerAddress);
        Assert.Equal(1, r.Attempts);
        Assert.StartsWith("The TLS handshake with mx.r.test failed:", r.Detail, StringComparison.Ordinal);
        Assert.Null(r.Tls);                 // no session was established
        await server.WaitForScriptFailureAsync(); // the server's handshake was refused by the client
        Assert.Equal(1, server.Accepted);  // no plaintext retry in Required mode
        var connection = Assert.Single(connections);
        Assert.Equal(["EHLO client.test.example", "STARTTLS"], connection.Plaintext);
        Assert.Empty(dialogue.Commands); // not even EHLO inside the refused TLS
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task Opportunistic_TLS_retries_the_same_address_in_plaintext_after_a_failed_handshake_and_stores_one_copy()
    {
        // Stops: a failed handshake deferring the message (MTAs retry in plaintext), a retry that says STARTTLS again
        // (and fails again), or two copies.
        var dialogue = new SmtpDialogue();
        var connections = new ConcurrentQueue<ConnectionLog>();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(StartTlsServer(dialogue, connections, TestCertificates.SelfSigned, failFirstHandshake: true), new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["p.test"] = [("mx.p.test", 10, address)] };
        await using var mailer = new DirectMailer(TlsOptions(SmtpTlsMode.Opportunistic), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@p.test"), SmtpContent.FromBytes(Message)).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx.p.test", r.MxHost);
        Assert.Equal(address, r.ServerAddress);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(TlsPostureKind.None, r.Tls!.Kind);
        await mailer.DisposeAsync(); // QUIT on the pooled plaintext connection: its script ends
        await server.WaitForScriptsAsync();
        Assert.Equal(2, server.Accepted);
        var logs = connections.ToArray();
        Assert.Equal(2, logs.Length);
        Assert.Equal(["EHLO client.test.example", "STARTTLS"], logs[0].Plaintext);
        Assert.False(logs[0].Encrypted);
        Assert.DoesNotContain("STARTTLS", logs[1].Plaintext);
        Assert.Equal("EHLO client.test.example", logs[1].Plaintext.First());
        Assert.Contains("MAIL FROM:<me@client.test>", logs[1].Plaintext);
        Assert.Equal(Message, Assert.Single(dialogue.Messages));
    }
}
