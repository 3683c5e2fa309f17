using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// Every per-phase timeout of <see cref="SmtpTimeouts"/> (RFC 5321 section 4.5.3.2), each against a scripted server
/// that stalls in that phase only: silent, or trickling its reply one octet at a time (the "trickle rule": one deadline
/// per reply, so a server that sends an octet now and then cannot stretch the wait). The phase under test gets
/// <see cref="Short"/>; every other timeout gets <see cref="Long"/>, which the stalling server outlasts, so a timeout
/// applied to the wrong phase, or a deadline reset by each octet, makes the test fail on the reported phase or time
/// out in <see cref="TestTimeouts.Bounded(Task)"/> rather than pass. No elapsed time is asserted.
/// </summary>
public sealed class SmtpPhaseTimeoutTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(40);
    private const string Message = "From: a@client.test\r\nTo: b@mx.test\r\nSubject: t\r\n\r\nHello.\r\n";

    /// <summary>A reply that takes about 12 s to trickle out at one octet per 250 ms.</summary>
    private const string SlowReply = "250 2.0.0 this reply arrives one octet at a time\r\n";

    public enum Stall
    {
        Silent,
        Trickle,
    }

    private static SmtpSessionOptions Options(Action<SmtpTimeouts> phase, SmtpTlsMode tls = SmtpTlsMode.None)
    {
        var options = new SmtpSessionOptions { HeloName = "client.test", TlsMode = tls };
        TestTimeouts.SetAll(options.Timeouts, Long);
        phase(options.Timeouts);
        return options;
    }

    /// <summary>
    /// The server's stall: nothing until the client goes, or <see cref="SlowReply"/> an octet at a time. True when the
    /// client went away before a trickled reply was complete (it did not wait for the whole reply).
    /// </summary>
    private static async Task<bool> StallAsync(ScriptedConnection c, Stall stall, string reply = SlowReply)
    {
        try
        {
            if (stall == Stall.Trickle)
            {
                foreach (var octet in reply)
                {
                    await c.SendAsync(octet.ToString());
                    await Task.Delay(250);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            return true;
        }

        try
        {
            // Whatever the client does next (QUIT, or closing), nothing more is answered.
            while (await c.ReadLineAsync(Long + Long) is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client closed the connection while the server stalled: that is what is tested.
        }

        return false;
    }

    private static async Task<SmtpConnectResult> ConnectAsync(ScriptedSmtpServer server, SmtpSessionOptions options)
    {
        await using var session = new SmtpSession(options);
        return await session.ConnectAsync(server.EndPoint, "mx.test").Bounded();
    }

    [Theory]
    [InlineData(Stall.Silent)]
    [InlineData(Stall.Trickle)]
    public async Task The_greeting_has_the_Greeting_timeout(Stall stall)
    {
        await using var server = ScriptedSmtpServer.Start(c => StallAsync(c, stall, "220 mx.test a greeting that takes its time\r\n"));

        var result = await ConnectAsync(server, Options(t => t.Greeting = Short));

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.Greeting), (result.Failure?.Kind, result.Failure?.Phase));
    }

    [Theory]
    [InlineData(Stall.Silent)]
    [InlineData(Stall.Trickle)]
    public async Task EHLO_has_the_Command_timeout(Stall stall)
    {
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.ReplyAsync("220 mx.test");
            await c.ExpectAsync("EHLO");
            await StallAsync(c, stall);
        });

        var result = await ConnectAsync(server, Options(t => t.Command = Short));

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.Hello), (result.Failure?.Kind, result.Failure?.Phase));
    }

    [Theory]
    [InlineData(Stall.Silent)]
    [InlineData(Stall.Trickle)]
    public async Task STARTTLS_has_the_Command_timeout(Stall stall)
    {
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 STARTTLS");
            await c.ExpectAsync("STARTTLS");
            await StallAsync(c, stall, "220 2.0.0 ready to start TLS, slowly\r\n");
        });

        var result = await ConnectAsync(server, Options(t => t.Command = Short, SmtpTlsMode.Required));

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.StartTls), (result.Failure?.Kind, result.Failure?.Phase));
    }

    [Fact]
    public async Task A_TLS_handshake_the_server_never_answers_has_the_Command_timeout()
    {
        // The 220 comes, then no ServerHello (the server does not even read the ClientHello): the handshake is bounded too.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 STARTTLS");
            await c.ExpectAsync("STARTTLS");
            await c.ReplyAsync("220 2.0.0 go ahead");
            try
            {
                await done.Task.WaitAsync(Long + Long);
            }
            catch (TimeoutException)
            {
            }
        });

        SmtpConnectResult result;
        try
        {
            result = await ConnectAsync(server, Options(t => t.Command = Short, SmtpTlsMode.Required));
        }
        finally
        {
            done.TrySetResult();
        }

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.StartTls), (result.Failure?.Kind, result.Failure?.Phase));
    }

    public static TheoryData<SmtpPhase, bool, Stall> TransactionPhases()
    {
        var data = new TheoryData<SmtpPhase, bool, Stall>();
        foreach (var phase in new[] { SmtpPhase.MailFrom, SmtpPhase.RcptTo, SmtpPhase.DataInitiation })
        {
            foreach (var pipelining in new[] { false, true })
            {
                data.Add(phase, pipelining, Stall.Silent);
                data.Add(phase, pipelining, Stall.Trickle);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TransactionPhases))]
    public async Task MAIL_RCPT_and_DATA_each_have_their_own_timeout_with_and_without_PIPELINING(SmtpPhase phase, bool pipelining, Stall stall)
    {
        // Stops: the reply to MAIL awaited with the RCPT timeout (or any other mix-up), and a pipelined group's
        // replies awaited under one timeout for all of them.
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.ReplyAsync("220 mx.test");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync(pipelining ? "250-mx.test\r\n250 PIPELINING" : "250 mx.test");
            await c.ExpectAsync("MAIL");
            if (pipelining)
            {
                await c.ExpectAsync("RCPT");
                await c.ExpectAsync("DATA");
            }

            if (phase == SmtpPhase.MailFrom)
            {
                await StallAsync(c, stall);
                return;
            }

            await c.ReplyAsync("250 2.1.0 Ok");
            if (!pipelining)
            {
                await c.ExpectAsync("RCPT");
            }

            if (phase == SmtpPhase.RcptTo)
            {
                await StallAsync(c, stall);
                return;
            }

            await c.ReplyAsync("250 2.1.5 Ok");
            if (!pipelining)
            {
                await c.ExpectAsync("DATA");
            }

            await StallAsync(c, stall, "354 End data with <CR><LF>.<CR><LF>, slowly\r\n");
        });
        await using var session = new SmtpSession(Options(t =>
        {
            switch (phase)
            {
                case SmtpPhase.MailFrom: t.MailFrom = Short; break;
                case SmtpPhase.RcptTo: t.RcptTo = Short; break;
                default: t.DataInitiation = Short; break;
            }
        }));
        Assert.True((await session.ConnectAsync(server.EndPoint, "mx.test").Bounded()).IsSuccess);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes(Message))).Bounded();

        Assert.Equal((SmtpFailureKind.TimedOut, phase), (result.Failure?.Kind, result.Failure?.Phase));
        Assert.False(result.Recipients[0].IsDelivered);
        Assert.False(session.IsUsable);
    }

    [Theory]
    [InlineData(Stall.Silent)]
    [InlineData(Stall.Trickle)]
    public async Task Each_write_of_content_has_the_DataBlock_timeout(Stall stall)
    {
        // A server that stops reading after 354 (silent), or reads a kilobyte now and then (trickle): the client's
        // write cannot complete within DataBlock once the socket buffers are full. 32 MB outlasts any loopback buffer.
        var line = new string('x', 98) + "\r\n";
        var content = Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 32 * 10_000)));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            try
            {
                // Until the test has its result (bounded): what the client wrote before it gave up is never all read.
                while (stall == Stall.Trickle && !done.Task.IsCompleted)
                {
                    await c.ReadBytesAsync(1024);
                    await Task.Delay(100);
                }

                await done.Task.WaitAsync(Long + Long);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or TimeoutException)
            {
            }
        });
        await using var session = new SmtpSession(Options(t => t.DataBlock = Short));
        Assert.True((await session.ConnectAsync(server.EndPoint, "mx.test").Bounded()).IsSuccess);

        SmtpTransactionResult result;
        try
        {
            result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes(content)).Bounded();
        }
        finally
        {
            done.TrySetResult();
        }

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.Content), (result.Failure?.Kind, result.Failure?.Phase));
        Assert.False(result.Recipients[0].IsDelivered);
    }

    [Fact]
    public async Task A_trickled_reply_after_the_final_dot_has_the_DataTermination_timeout_and_is_not_delivered()
    {
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            await c.ReadDataAsync();
            await StallAsync(c, Stall.Trickle);
        });
        await using var session = new SmtpSession(Options(t => t.DataTermination = Short));
        Assert.True((await session.ConnectAsync(server.EndPoint, "mx.test").Bounded()).IsSuccess);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes(Message))).Bounded();

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.DataTermination), (result.Failure?.Kind, result.Failure?.Phase));
        Assert.True(result.Recipients[0].IsAccepted);
        Assert.False(result.Recipients[0].IsDelivered);
    }

    [Theory]
    [InlineData(Stall.Silent)]
    [InlineData(Stall.Trickle)]
    public async Task RSET_has_the_Command_timeout(Stall stall)
    {
        // The first transaction ends with every recipient refused, so the server holds it: the next begins with RSET.
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250 mx.test");
            await c.ExpectAsync("MAIL");
            await c.ReplyAsync("250 2.1.0 Ok");
            await c.ExpectAsync("RCPT");
            await c.ReplyAsync("550 5.1.1 no such user");
            await c.ExpectAsync("RSET");
            await StallAsync(c, stall);
        });
        await using var session = new SmtpSession(Options(t => t.Command = Short));
        Assert.True((await session.ConnectAsync(server.EndPoint, "mx.test").Bounded()).IsSuccess);
        var first = await session.SendAsync(new SmtpEnvelope("a@client.test", "nobody@mx.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes(Message))).Bounded();
        Assert.Equal(SmtpTransactionOutcome.NoRecipientsAccepted, first.Outcome);

        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes(Message))).Bounded();

        Assert.Equal((SmtpFailureKind.TimedOut, SmtpPhase.Other), (second.Failure?.Kind, second.Failure?.Phase));
        Assert.False(second.Recipients[0].IsAccepted);
    }

    [Theory]
    [InlineData(Stall.Silent)]
    [InlineData(Stall.Trickle)]
    public async Task QUIT_waits_no_longer_than_the_Command_timeout_and_then_closes(Stall stall)
    {
        // Stops: a goodbye that is never answered holding the connection (and DisposeAsync) for minutes.
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250 mx.test");
            await c.ExpectAsync("QUIT");
            if (stall == Stall.Trickle)
            {
                closed.TrySetResult(await StallAsync(c, stall, "221 2.0.0 a goodbye that takes its time\r\n"));
                return;
            }

            closed.TrySetResult(await c.ClientClosesAsync(Long + Long));
        });
        var session = new SmtpSession(Options(t => t.Command = Short));
        Assert.True((await session.ConnectAsync(server.EndPoint, "mx.test").Bounded()).IsSuccess);

        await session.QuitAsync().AsTask().Bounded();

        Assert.True(await closed.Task.Bounded());
        Assert.False(session.IsUsable);
        await session.DisposeAsync();
    }

    [Theory]
    [InlineData(600, 30)]
    [InlineData(20, 20)]
    [InlineData(-1, 30)]
    public void The_QUIT_timeout_is_the_Command_timeout_at_most_30_seconds(int commandSeconds, int quitSeconds)
    {
        var options = new SmtpSessionOptions { HeloName = "client.test" };
        options.Timeouts.Command = commandSeconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(commandSeconds);

        var session = new SmtpSession(options);

        Assert.Equal(TimeSpan.FromSeconds(quitSeconds), session.QuitTimeout);
    }
}
