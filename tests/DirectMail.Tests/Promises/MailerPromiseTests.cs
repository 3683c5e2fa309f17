using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace DirectMail.Tests.Promises;

/// <summary>
/// README promises of the mailer that no test checked, through <see cref="DirectMailer.SendAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/>
/// against scripted servers on 127.0.126.x with a resolver from a table: the pool's NOOP probe and idle close, 5xx to
/// the DATA command, 5.7.25, a UTF-8 sender to a server without SMTPUTF8, TCP_NODELAY, <c>MaxAddressesPerDomain</c>,
/// the end of the 421 backoff and <c>LocalAddress</c>.
/// </summary>
public sealed class MailerPromiseTests
{
    private const int Port = 10126;
    private static int _nextAddress = 10;

    private static readonly byte[] Ascii = "Subject: hi\r\n\r\nHello.\r\n"u8.ToArray();

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.126.{Interlocked.Increment(ref _nextAddress)}");

    private static DirectMailOptions Options(Action<DirectMailOptions>? configure = null) => LoopbackMailerOptions.Create(Port, o =>
    {
        o.SendTimeout = TimeSpan.FromSeconds(30);
        configure?.Invoke(o);
    });

    private static SmtpContent Content() => SmtpContent.FromBytes(Ascii);

    // ---- The pool: NOOP probe on reuse, idle close ------------------------------------------------------------------

    [Fact]
    public async Task A_pooled_connection_is_reused_without_NOOP_within_ProbeAfter_and_probed_with_one_NOOP_after_it()
    {
        // Stops: a reused connection never checked (a message sent into a connection the server dropped while idle),
        // or every reuse paying a NOOP round trip.
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["pool.test"] = [("mx.pool.test", 10, address)] };
        var clock = new FakeTimeProvider();
        await using var mailer = new DirectMailer(Options(), resolver, timeProvider: clock); // ProbeAfter 2 s, idle 30 s

        var first = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@pool.test"), Content()).Bounded();
        clock.Advance(TimeSpan.FromSeconds(1));
        var second = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "b@pool.test"), Content()).Bounded();
        var noopsBefore = DeliveryCount(dialogue, "NOOP");
        clock.Advance(TimeSpan.FromSeconds(3));
        var third = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "c@pool.test"), Content()).Bounded();

        Assert.True(first.IsFullyDelivered && second.IsFullyDelivered && third.IsFullyDelivered, string.Join("; ", first.Recipients.Concat(second.Recipients).Concat(third.Recipients)));
        Assert.Equal(1, server.Accepted);   // one connection carried all three
        Assert.Equal(0, noopsBefore);        // reused after 1 s: no probe
        var commands = dialogue.Commands.ToArray();
        Assert.Equal(1, commands.Count(c => c == "NOOP"));
        var noop = Array.IndexOf(commands, "NOOP");
        Assert.StartsWith("MAIL FROM:<me@client.test>", commands[noop + 1], StringComparison.Ordinal); // probed right before the third message
        Assert.Equal("RCPT TO:<c@pool.test>", commands[noop + 2]);
        Assert.Equal(3, dialogue.Messages.Count);
    }

    [Fact]
    public async Task A_connection_idle_past_PooledConnectionIdleTimeout_is_closed_with_QUIT_while_nothing_is_sent()
    {
        // Stops: idle connections kept open until the server times them out (a receiver's connection slots held for
        // nothing), or closed only when the next send finds them stale. Nothing is sent after the first message: the
        // prune timer alone must close the connection.
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["idle.test"] = [("mx.idle.test", 10, address)] };
        var clock = new FakeTimeProvider();
        await using var mailer = new DirectMailer(Options(o => o.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30)), resolver, timeProvider: clock);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@idle.test"), Content()).Bounded();
        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        clock.Advance(TimeSpan.FromSeconds(29));
        var openAfter29 = server.Open;
        var quitAfter29 = DeliveryCount(dialogue, "QUIT");
        clock.Advance(TimeSpan.FromSeconds(20)); // past 30 s idle; the timer looks every 15 s

        await TestTimeouts.EventuallyAsync(() => server.Open == 0, "the idle connection closed");
        Assert.Equal(1, openAfter29);        // not closed before its time
        Assert.Equal(0, quitAfter29);
        Assert.Equal("QUIT", dialogue.Commands.Last()); // closed politely, and nothing else was said
        Assert.Equal(0, DeliveryCount(dialogue, "NOOP"));
        Assert.Equal(1, server.Accepted);
        Assert.Empty(mailer.Delivery.Pool.IdleSessions());
    }

    [Fact]
    public async Task The_mailers_connections_have_TCP_NODELAY_set()
    {
        // Stops: Nagle's algorithm left on (each pipelined group and message end waits ~40 ms for a delayed ACK).
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["nodelay.test"] = [("mx.nodelay.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@nodelay.test"), Content()).Bounded();

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        var session = Assert.Single(mailer.Delivery.Pool.IdleSessions()); // the connection the mailer made for this send
        Assert.Equal(new IPEndPoint(address, Port), session.RemoteEndPoint);
        Assert.True(session.SocketNoDelay);
    }

    // ---- Replies: 5xx to DATA, 5.7.25 ----------------------------------------------------------------------------------

    [Fact]
    public async Task A_5xx_to_the_DATA_command_fails_every_recipient_of_the_transaction_with_that_exact_reply_and_sends_no_content()
    {
        // Stops: a refused DATA reported as the RCPT's 250 (Delivered), as a transient outcome tried at the backup, or
        // the content sent anyway.
        const string refusal = "554 5.3.4 Message too big for system";
        var dialogue = new SmtpDialogue { Respond = l => l == "DATA" ? refusal : null };
        var backupDialogue = new SmtpDialogue();
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var primary = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(a1, Port));
        await using var backup = ScriptedSmtpServer.Start(backupDialogue.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["data.test"] = [("mx1.data.test", 10, a1), ("mx2.data.test", 20, a2)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRetryAttempts = 2), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@data.test", "b@data.test"), Content()).Bounded();

        Assert.Equal(2, report.FailedCount);
        foreach (var r in report.Recipients)
        {
            Assert.Equal(DeliveryStatus.Failed, r.Status);
            Assert.Equal(554, r.Reply!.Code);
            Assert.Equal("5.3.4", r.Reply.EnhancedStatusCode?.ToString());
            Assert.Equal("5.3.4 Message too big for system", r.Reply.Text);
            Assert.False(r.Reply.IsSynthetic);
            Assert.Equal("mx1.data.test", r.MxHost);
            Assert.Equal(1, r.Attempts);
            Assert.False(r.IsPolicyRejection);
        }

        Assert.Equal(1, DeliveryCount(dialogue, "DATA"));
        Assert.Empty(dialogue.Messages);
        Assert.Equal(1, primary.Accepted);
        Assert.Equal(0, backup.Accepted);
    }

    [Fact]
    public async Task A_5_7_25_refusal_is_a_policy_rejection_whose_hint_names_the_PTR_record_and_the_EHLO_name()
    {
        // Stops: RFC 7372's "reverse DNS validation failed" reported as an ordinary refusal, or hinted at SPF/DKIM
        // (the record the operator must fix is the PTR of the sending IP).
        const string refusal = "550 5.7.25 [127.0.0.1] The IP address sending this message does not have a PTR record setup";
        var dialogue = new SmtpDialogue { Respond = l => l.StartsWith("MAIL", StringComparison.Ordinal) ? refusal : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["ptr.test"] = [("mx.ptr.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRetryAttempts = 2), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@ptr.test"), Content()).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal("5.7.25 [127.0.0.1] The IP address sending this message does not have a PTR record setup", r.Reply!.Text);
        Assert.True(r.IsPolicyRejection);
        Assert.Contains("reverse DNS", r.Hint, StringComparison.Ordinal);
        Assert.Contains("PTR record", r.Hint, StringComparison.Ordinal);
        Assert.Contains("HeloName", r.Hint, StringComparison.Ordinal);
        Assert.DoesNotContain("SPF", r.Hint, StringComparison.Ordinal);
        Assert.Equal(1, server.Accepted); // not retried: it will not pass until the PTR exists
        Assert.Equal(1, DeliveryCount(dialogue, "MAIL"));
    }

    [Theory]
    [InlineData("550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.")]
    [InlineData("550 5.7.23 The message was rejected because of Sender Policy Framework violation")]
    public async Task An_authentication_refusal_is_hinted_at_SPF_DKIM_and_DMARC_not_at_the_PTR(string refusal)
    {
        // Stops: hints asserted only as non-empty: an SPF/DKIM failure must send the operator to those records.
        var dialogue = new SmtpDialogue { Respond = l => l == "<end-of-data>" ? refusal : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["auth.test"] = [("mx.auth.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@auth.test"), Content()).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.True(r.IsPolicyRejection);
        Assert.Contains("SPF record", r.Hint, StringComparison.Ordinal);
        Assert.Contains("DKIM", r.Hint, StringComparison.Ordinal);
        Assert.Contains("DMARC", r.Hint, StringComparison.Ordinal);
        Assert.DoesNotContain("PTR", r.Hint, StringComparison.Ordinal);
    }

    // ---- A UTF-8 sender to a server without SMTPUTF8 ------------------------------------------------------------------

    [Fact]
    public async Task A_UTF8_sender_to_a_server_without_SMTPUTF8_fails_with_553_5_6_7_before_any_transaction_command()
    {
        // Stops: MAIL FROM with raw UTF-8 sent to a server that never agreed to it (RFC 6531 section 3.4), or a
        // transient outcome that retries forever.
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES" };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["utf8.test"] = [("mx.utf8.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("jörg@client.test", "a@utf8.test"), Content()).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal(553, r.Reply!.Code);
        Assert.Equal("5.6.7", r.Reply.EnhancedStatusCode?.ToString());
        Assert.True(r.Reply.IsSynthetic); // DirectMail's own reply: the server said nothing of the kind
        Assert.Contains("SMTPUTF8", r.Detail ?? r.Reply.Text, StringComparison.Ordinal);
        await mailer.DisposeAsync();
        await server.WaitForScriptsAsync();
        Assert.All(dialogue.Commands, c => Assert.True(c.StartsWith("EHLO", StringComparison.Ordinal) || c == "QUIT" || c == "RSET", $"sent {c}"));
        Assert.DoesNotContain(dialogue.Commands, c => c.Contains("jörg", StringComparison.Ordinal));
        Assert.Empty(dialogue.Messages);
    }

    // ---- MaxAddressesPerDomain, the 421 backoff's end, LocalAddress ----------------------------------------------------

    [Fact]
    public async Task No_more_than_MaxAddressesPerDomain_addresses_are_tried()
    {
        // Stops: a domain with many MX addresses that all defer making the mailer knock on every one of them
        // (Postfix's smtp_mx_address_limit).
        var dialogues = new[] { new SmtpDialogue { Greeting = "450 4.3.2 mx1 busy" }, new SmtpDialogue { Greeting = "450 4.3.2 mx2 busy" }, new SmtpDialogue { Greeting = "450 4.3.2 mx3 busy" } };
        var addresses = new[] { NewAddress(), NewAddress(), NewAddress() };
        await using var s1 = ScriptedSmtpServer.Start(dialogues[0].RunAsync, new IPEndPoint(addresses[0], Port));
        await using var s2 = ScriptedSmtpServer.Start(dialogues[1].RunAsync, new IPEndPoint(addresses[1], Port));
        await using var s3 = ScriptedSmtpServer.Start(dialogues[2].RunAsync, new IPEndPoint(addresses[2], Port));
        var resolver = new TableResolver { ["many.test"] = [("mx1.many.test", 10, addresses[0]), ("mx2.many.test", 20, addresses[1]), ("mx3.many.test", 30, addresses[2])] };
        await using var mailer = new DirectMailer(Options(o => o.MaxAddressesPerDomain = 2), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@many.test"), Content()).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal("450 4.3.2 mx2 busy", r.Reply!.ToString()); // the last address tried decides
        Assert.Equal("mx2.many.test", r.MxHost);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(1, s1.Accepted);
        Assert.Equal(1, s2.Accepted);
        Assert.Equal(0, s3.Accepted);
    }

    [Fact]
    public async Task A_host_that_answered_421_is_tried_again_once_HostBackoffAfter421_has_passed()
    {
        // Stops: a 421 banning the preferred MX for the life of the process (all mail to the backup forever), and its
        // opposite, knocking again before the backoff ends.
        var greetings = 0;
        var busy = new SmtpDialogue();
        var address = NewAddress();
        var backupAddress = NewAddress();
        await using var primary = ScriptedSmtpServer.Start(
            c => Interlocked.Increment(ref greetings) == 1
                ? c.ReplyAsync("421 4.7.28 mx1.backoff.test Too many connections, slow down")
                : busy.RunAsync(c),
            new IPEndPoint(address, Port));
        var backupDialogue = new SmtpDialogue();
        await using var backup = ScriptedSmtpServer.Start(backupDialogue.RunAsync, new IPEndPoint(backupAddress, Port));
        var resolver = new TableResolver { ["backoff.test"] = [("mx1.backoff.test", 10, address), ("mx2.backoff.test", 20, backupAddress)] };
        var clock = new FakeTimeProvider();
        await using var mailer = new DirectMailer(Options(o => o.HostBackoffAfter421 = TimeSpan.FromMinutes(1)), resolver, timeProvider: clock);

        var first = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@backoff.test"), Content()).Bounded();
        clock.Advance(TimeSpan.FromSeconds(50));
        var second = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "b@backoff.test"), Content()).Bounded();
        var acceptedWithinBackoff = primary.Accepted;
        clock.Advance(TimeSpan.FromSeconds(11)); // 61 s after the 421
        var third = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "c@backoff.test"), Content()).Bounded();

        Assert.Equal("mx2.backoff.test", Assert.Single(first.Recipients).MxHost);
        Assert.Equal("mx2.backoff.test", Assert.Single(second.Recipients).MxHost);
        Assert.Equal(1, acceptedWithinBackoff);        // left alone for the minute
        var r = Assert.Single(third.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx1.backoff.test", r.MxHost);    // and preferred again after it
        Assert.Equal(address, r.ServerAddress);
        Assert.Equal(2, primary.Accepted);
        Assert.Single(busy.Messages);
        Assert.Equal(2, backupDialogue.Messages.Count);
    }

    [Fact]
    public async Task Connections_come_from_LocalAddress()
    {
        // Stops: LocalAddress read but never bound (on a host with several addresses the mail leaves from one whose
        // PTR and SPF do not match).
        var local = IPAddress.Parse("127.0.0.77");
        var address = NewAddress();
        var dialogue = new SmtpDialogue();
        var listener = new TcpListener(address, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        try
        {
            var resolver = new TableResolver { ["local.test"] = [("mx.local.test", 10, address)] };
            await using var mailer = new DirectMailer(Options(o => o.LocalAddress = local.ToString()), resolver);
            IPEndPoint? seen = null;
            var serving = Task.Run(async () =>
            {
                using var socket = await listener.AcceptSocketAsync();
                seen = (IPEndPoint)socket.RemoteEndPoint!;
                await using var connection = new ScriptedConnection(socket, CancellationToken.None);
                await dialogue.RunAsync(connection);
            });

            var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@local.test"), Content()).Bounded();
            await mailer.DisposeAsync(); // QUIT: the server's script ends
            await serving.Bounded();

            Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
            Assert.Equal(local, seen!.Address);
            Assert.Single(dialogue.Messages);
        }
        finally
        {
            listener.Stop();
        }
    }

    private static int DeliveryCount(SmtpDialogue dialogue, string verb) => DirectMail.Tests.Delivery.DeliveryTestKit.Count(dialogue, verb);
}
