using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>Opening a session against scripted servers: greeting, EHLO/HELO, and every way it can fail.</summary>
public sealed class SmtpSessionConnectTests
{
    internal static SmtpSessionOptions Options(Action<SmtpSessionOptions>? configure = null)
    {
        var options = new SmtpSessionOptions
        {
            HeloName = "client.test",
            TlsMode = SmtpTlsMode.None,
        };
        TestTimeouts.SetAll(options.Timeouts, TimeSpan.FromSeconds(5));
        configure?.Invoke(options);
        return options;
    }

    [Fact]
    public async Task Multi_line_greeting_and_EHLO_give_a_ready_session_with_the_servers_extensions()
    {
        var dialogue = new SmtpDialogue { Greeting = "220-mx.test ESMTP\r\n220-No UCE\r\n220 Welcome" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(session.IsUsable);
        Assert.Equal(new[] { "mx.test ESMTP", "No UCE", "Welcome" }, result.Greeting!.Lines);
        Assert.True(session.Capabilities.Supports(SmtpExtensions.Pipelining | SmtpExtensions.EightBitMime | SmtpExtensions.SmtpUtf8));
        Assert.Equal(10240000, session.Capabilities.MaxMessageSize);
        Assert.Equal("EHLO client.test", Assert.Single(dialogue.Commands));
    }

    [Fact]
    public async Task Greeting_421_is_a_typed_transient_rejection_and_the_connection_is_closed_without_QUIT()
    {
        var dialogue = new SmtpDialogue { Greeting = "421 4.3.2 mx.test Service not available, closing" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.False(result.IsSuccess);
        Assert.Equal(SmtpFailureKind.Rejected, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.Greeting, result.Failure.Phase);
        Assert.Equal(421, result.Failure.Reply!.Code);
        Assert.True(result.Failure.IsTransient);
        Assert.False(session.IsUsable);
        await server.WaitForScriptsAsync();
        Assert.Empty(dialogue.Commands);
    }

    [Fact]
    public async Task Greeting_554_is_a_typed_permanent_rejection_and_the_client_says_QUIT()
    {
        var dialogue = new SmtpDialogue { Greeting = "554 5.7.1 No SMTP service here" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.Equal(554, result.Failure!.Reply!.Code);
        Assert.Equal(new EnhancedStatusCode(5, 7, 1), result.Failure.Reply.EnhancedStatusCode);
        Assert.False(result.Failure.IsTransient);
        await server.WaitForScriptsAsync();
        Assert.Equal("QUIT", Assert.Single(dialogue.Commands));
    }

    [Theory]
    [InlineData("500 5.5.1 Command unrecognized")]
    [InlineData("502 5.5.2 Not implemented")]
    public async Task EHLO_refused_as_unknown_falls_back_to_HELO(string ehloReply)
    {
        var dialogue = new SmtpDialogue { EhloReply = ehloReply };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.False(session.Capabilities.IsExtended);
        Assert.Equal(SmtpExtensions.None, session.Capabilities.Extensions);
        Assert.Equal(new[] { "EHLO client.test", "HELO client.test" }, dialogue.Commands);
    }

    [Fact]
    public async Task EHLO_refused_with_another_code_is_a_hello_failure()
    {
        // HELO is tried after any refusal but 421 (SmtpSessionReviewTests); this server refuses it too.
        var dialogue = new SmtpDialogue { EhloReply = "550 5.7.1 Go away", Respond = l => l.StartsWith("HELO", StringComparison.Ordinal) ? "550 5.7.1 Go away" : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpPhase.Hello, result.Failure!.Phase);
        Assert.Equal(550, result.Failure.Reply!.Code);
    }

    [Fact]
    public async Task EHLO_4xx_is_a_transient_hello_failure()
    {
        var dialogue = new SmtpDialogue { EhloReply = "451 4.3.0 Try later", Respond = l => l.StartsWith("HELO", StringComparison.Ordinal) ? "451 4.3.0 Try later" : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpPhase.Hello, result.Failure!.Phase);
        Assert.True(result.Failure.IsTransient);
    }

    [Fact]
    public async Task Server_that_never_greets_times_out_at_the_greeting_timeout()
    {
        // The server holds the connection past the test's bound: only the greeting timeout can end the wait in time (a
        // close by the server would be another failure kind).
        await using var server = ScriptedSmtpServer.Start(c => c.ClientClosesAsync(TimeSpan.FromMinutes(10)));
        await using var session = new SmtpSession(Options(o => o.Timeouts.Greeting = TimeSpan.FromMilliseconds(300)));

        var result = await session.ConnectAsync(server.EndPoint).Bounded();

        Assert.Equal(SmtpFailureKind.TimedOut, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.Greeting, result.Failure.Phase);
        Assert.False(session.IsUsable);
    }

    [Fact]
    public async Task Greeting_trickled_one_octet_at_a_time_cannot_outlast_its_timeout()
    {
        // Stops: a tarpit extending a per-read timeout forever by sending one byte just before it expires.
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            foreach (var ch in "220 slow greeting that never ends")
            {
                await c.SendAsync(ch.ToString());
                await Task.Delay(100);
            }
        });
        await using var session = new SmtpSession(Options(o => o.Timeouts.Greeting = TimeSpan.FromMilliseconds(600)));

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpFailureKind.TimedOut, result.Failure!.Kind);
    }

    [Fact]
    public async Task Refused_connection_is_ConnectFailed()
    {
        var listener = new TcpListener(IPAddress.Parse("127.0.25.1"), 0);
        listener.Start();
        var endPoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(endPoint, "closed.test");

        Assert.Equal(SmtpFailureKind.ConnectFailed, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.Connect, result.Failure.Phase);
        Assert.IsType<SocketException>(result.Failure.Exception);
        Assert.True(result.Failure.IsTransient);
    }

    [Fact]
    public async Task Connection_closed_before_the_greeting_is_ConnectionLost()
    {
        await using var server = ScriptedSmtpServer.Start(c =>
        {
            c.Close();
            return Task.CompletedTask;
        });
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpFailureKind.ConnectionLost, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.Greeting, result.Failure.Phase);
    }

    [Fact]
    public async Task Connection_dropped_at_EHLO_is_ConnectionLost_at_hello()
    {
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("EHLO", StringComparison.Ordinal) ? SmtpDialogue.Drop : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpFailureKind.ConnectionLost, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.Hello, result.Failure.Phase);
    }

    [Fact]
    public async Task Endless_multi_line_greeting_ends_in_a_protocol_violation()
    {
        // Stops: a hostile server keeping the client reading "220-" lines forever.
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            try
            {
                for (var i = 0; i < 100_000; i++)
                {
                    await c.SendAsync("220-and more\r\n");
                }
            }
            catch (System.IO.IOException)
            {
                // The client hung up after its 256 lines (what it must do); the socket's buffer may also have held all.
            }
        });
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpFailureKind.ProtocolViolation, result.Failure!.Kind);
        Assert.Contains("more than 256 lines", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(SmtpProtocolViolation.TooManyLines, result.Failure.ProtocolViolation);
    }

    [Fact]
    public async Task Ten_megabyte_line_without_end_ends_in_a_protocol_violation_without_reading_it_all()
    {
        // Stops: a line without CRLF growing the client's memory without bound.
        var sent = 0L;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            var block = Encoding.ASCII.GetBytes("220 " + new string('x', 64 * 1024));
            while (sent < 10 * 1024 * 1024)
            {
                await c.SendBytesAsync(block);
                sent += block.Length;
            }
        });
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpFailureKind.ProtocolViolation, result.Failure!.Kind);
        Assert.Contains("longer than 4096", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(SmtpProtocolViolation.LineTooLong, result.Failure.ProtocolViolation);
        // The client closed the connection while the server was still writing the line: it did not read it all.
        Assert.IsType<System.IO.IOException>(await server.WaitForScriptFailureAsync());
        Assert.True(sent < 10 * 1024 * 1024, $"the server wrote all {sent} octets");
    }

    [Fact]
    public async Task Binary_garbage_instead_of_a_greeting_is_a_protocol_violation()
    {
        await using var server = ScriptedSmtpServer.Start(c => c.SendBytesAsync([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x0a]));
        await using var session = new SmtpSession(Options());

        var result = await session.ConnectAsync(server.EndPoint);

        Assert.Equal(SmtpFailureKind.ProtocolViolation, result.Failure!.Kind);
        Assert.Equal(SmtpProtocolViolation.NotAReply, result.Failure.ProtocolViolation);
        Assert.Equal(SmtpPhase.Greeting, result.Failure.Phase);
    }

    [Fact]
    public async Task Local_bind_address_is_the_connections_source()
    {
        IPEndPoint? seen = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.ReplyAsync("220 mx.test");
            await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        });
        var local = new IPEndPoint(IPAddress.Parse("127.0.25.99"), 0);
        await using var session = new SmtpSession(Options(o => o.LocalEndPoint = local));

        _ = await session.ConnectAsync(server.EndPoint);
        seen = session.LocalEndPoint;

        Assert.Equal(IPAddress.Parse("127.0.25.99"), seen!.Address);
    }

    [Fact]
    public async Task Cancellation_while_waiting_for_the_greeting_throws_and_closes_the_socket()
    {
        var closed = new TaskCompletionSource<bool>();
        await using var server = ScriptedSmtpServer.Start(async c => closed.TrySetResult(await c.ClientClosesAsync(TimeSpan.FromSeconds(10))));
        await using var session = new SmtpSession(Options());
        using var cts = new System.Threading.CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var exception = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await session.ConnectAsync(server.EndPoint, cancellationToken: cts.Token));

        Assert.Equal(cts.Token, exception.CancellationToken);
        Assert.True(await closed.Task, "the server must see the connection closed");
        Assert.False(session.IsUsable);
    }

    [Fact]
    public async Task A_session_connects_only_once()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(Options());
        await session.ConnectAsync(server.EndPoint);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await session.ConnectAsync(server.EndPoint));
    }

    [Fact]
    public async Task Transcript_is_logged_at_trace_as_C_and_S_lines()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        var logger = new ListLogger();
        await using var session = new SmtpSession(Options(), logger);

        await session.ConnectAsync(server.EndPoint, "mx.test");
        await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes("Subject: secret\r\n\r\nprivate words\r\n"u8.ToArray()));
        await session.QuitAsync();

        var lines = logger.Messages;
        Assert.Contains("S: 220 mx.test ESMTP", lines);
        Assert.Contains("C: EHLO client.test", lines);
        Assert.Contains("S: 250-PIPELINING", lines);
        Assert.Contains("C: MAIL FROM:<a@client.test> SIZE=34", lines);
        Assert.Contains("C: RCPT TO:<b@mx.test>", lines);
        Assert.Contains("S: 354 End data with <CR><LF>.<CR><LF>", lines);
        Assert.Contains("C: <34 octets of message content>", lines);
        Assert.Contains("C: QUIT", lines);
        Assert.DoesNotContain(lines, l => l.Contains("private words", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Message_content_is_logged_only_when_asked()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        var logger = new ListLogger();
        await using var session = new SmtpSession(Options(o => o.LogContent = true), logger);

        await session.ConnectAsync(server.EndPoint, "mx.test");
        await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes("Subject: x\r\n\r\nvisible words\r\n"u8.ToArray()));

        Assert.Contains(logger.Messages, l => l.Contains("visible words", StringComparison.Ordinal));
    }
}
