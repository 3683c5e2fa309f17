using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// The faults of the outside review of issue 10, against scripted servers: the end of the message and cancellation,
/// BDAT without PIPELINING, 354 that must get no content, the HELO fallback, and 421 to BDAT or RSET.
/// </summary>
public sealed class SmtpSessionReviewTests
{
    private const string Message = "From: a@client.test\r\nTo: b@mx.test\r\nSubject: test\r\n\r\nHello.\r\n";

    /// <summary>About 200 KB: four 64 KiB chunks with BDAT.</summary>
    private static readonly string BigMessage = "Subject: chunks\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 70) + "\r\n", 2800));

    private static SmtpContent Content(string text = Message) => SmtpContent.FromBytes(Encoding.UTF8.GetBytes(text));

    private static async Task<SmtpSession> ConnectAsync(ScriptedSmtpServer server, Action<SmtpSessionOptions>? configure = null)
    {
        var session = new SmtpSession(SmtpSessionConnectTests.Options(configure));
        var result = await session.ConnectAsync(server.EndPoint, "mx.test");
        Assert.True(result.IsSuccess, result.ToString());
        return session;
    }

    /// <summary>Reads "BDAT n [LAST]" and its n octets; returns whether it was the last.</summary>
    private static async Task<bool> ReadChunkAsync(ScriptedConnection c)
    {
        var line = await c.ExpectAsync("BDAT ");
        var parts = line.Split(' ');
        await c.ReadBytesAsync(int.Parse(parts[1], CultureInfo.InvariantCulture));
        return parts.Length > 2 && parts[2].Equals("LAST", StringComparison.OrdinalIgnoreCase);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Item 2: once the end of the message is sent, the caller's token no longer cuts the wait for its reply.
    // ----------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cancellation_after_the_end_of_the_message_still_waits_for_and_returns_the_servers_reply(bool chunking)
    {
        // Stops: a caller's cancellation striking between the dot and the 250 reporting "canceled, not delivered"
        // (and the message being sent again) although the server queued it.
        using var cts = new CancellationTokenSource();
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.ReplyAsync("220 mx.test");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync(chunking ? "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING" : "250-mx.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            if (chunking)
            {
                await c.SendAsync("250 ok\r\n250 ok\r\n");
                Assert.True(await ReadChunkAsync(c));
            }
            else
            {
                await c.ExpectAsync("DATA");
                await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
                await c.ReadDataAsync();
            }

            // The whole message is here; the caller gives up now, and the server answers a while later.
            cts.Cancel();
            await Task.Delay(700);
            await c.ReplyAsync("250 2.0.0 Ok: queued as 4XyZ");
            await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        });
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(), cts.Token);

        Assert.True(cts.IsCancellationRequested);
        Assert.Equal(SmtpTransactionOutcome.Delivered, result.Outcome);
        Assert.True(result.Recipients[0].IsDelivered);
        Assert.Equal("2.0.0 Ok: queued as 4XyZ", result.FinalReply!.Text);
        Assert.True(session.IsUsable);
    }

    [Fact]
    public async Task Silence_after_the_final_dot_gets_the_whole_DataTerminationTimeout_and_is_a_DataTermination_failure_despite_cancellation()
    {
        // Stops: a canceled wait for the final reply being an OperationCanceledException ("nothing happened"), when
        // the server may have the message; it is a DataTermination failure, which the delivery reports as
        // "may have been delivered" and never retries.
        using var cts = new CancellationTokenSource();
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            await c.ReadDataAsync();
            cts.Cancel();
            await c.ClientClosesAsync(TimeSpan.FromSeconds(10));
        });
        await using var session = await ConnectAsync(server, o => o.Timeouts.DataTermination = TimeSpan.FromSeconds(1.5));

        // Canceled after the dot, the reply is still awaited: the outcome is the DataTermination timeout, not a cancellation.
        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(), cts.Token).Bounded();

        Assert.Equal(SmtpTransactionOutcome.Failed, result.Outcome);
        Assert.Equal(SmtpFailureKind.TimedOut, result.Failure!.Kind);
        Assert.Equal(SmtpPhase.DataTermination, result.Failure.Phase);
        Assert.True(result.Recipients[0].IsAccepted);
        Assert.False(result.Recipients[0].IsDelivered);
        Assert.False(session.IsUsable);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Items 4 and 11: BDAT without PIPELINING, and 421 to a chunk.
    // ----------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task BDAT_without_PIPELINING_stops_at_the_first_refused_chunk_whose_transient_reply_decides()
    {
        // Stops: further chunks after a refused one (RFC 3030 section 2), whose 551 (Postfix's answer to chunks after
        // an error) turned a transient 452 into a permanent failure. The next transaction starts with RSET.
        var dialogue = new SmtpDialogue
        {
            EhloReply = "250-mx.test\r\n250 CHUNKING",
            // As Postfix: after a refused chunk, every BDAT of the transaction gets 551 until RSET.
            Respond = line =>
            {
                if (line == "RSET")
                {
                    _chunkFailed = false;
                    return null;
                }

                if (!line.StartsWith("BDAT", StringComparison.Ordinal))
                {
                    return null;
                }

                if (_chunkFailed)
                {
                    return "551 5.0.0 Error: BDAT after previous error";
                }

                if (_chunksSeen++ == 0)
                {
                    _chunkFailed = true;
                    return "452 4.3.1 Insufficient system storage";
                }

                return null;
            },
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var first = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(BigMessage));
        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "c@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.MessageRejected, first.Outcome);
        var reply = first.Recipients[0].Reply!;
        Assert.Equal(452, reply.Code);
        Assert.Equal("4.3.1 Insufficient system storage", reply.Text);
        Assert.True(first.Failure!.IsTransient);
        Assert.Equal(452, first.DataReply!.Code);
        Assert.Null(first.FinalReply);
        Assert.True(second.IsDelivered, second.ToString());
        // One chunk of the first message, not LAST; then RSET before the second transaction.
        var commands = dialogue.Commands.Select(l => l.StartsWith("BDAT ", StringComparison.Ordinal) && !l.EndsWith("LAST", StringComparison.Ordinal) ? "BDAT (not last)" : l).ToArray();
        Assert.Equal(
            new[] { "EHLO client.test", "MAIL FROM:<a@client.test>", "RCPT TO:<b@mx.test>", "BDAT (not last)", "RSET", "MAIL FROM:<a@client.test>", "RCPT TO:<c@mx.test>", $"BDAT {Message.Length} LAST" },
            commands);
        // (SmtpDialogue keeps a refused transaction's chunks across RSET, so only the end of what it stored is checked.)
        Assert.EndsWith(Message, Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)), StringComparison.Ordinal);
    }

    private int _chunksSeen;
    private bool _chunkFailed;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reply_421_to_a_BDAT_before_the_last_is_reported_as_the_421_and_closes_the_session(bool pipelining)
    {
        // Stops: the 421 lost from the report (a "lost connection after the end of data", not retried, or a plain
        // lost connection), so no host backoff either.
        var bdats = 0;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.ReplyAsync("220 mx.test");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync(pipelining ? "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING" : "250-mx.test\r\n250 CHUNKING");
            await c.ExpectAsync("MAIL");
            if (!pipelining)
            {
                await c.ReplyAsync("250 ok");
            }

            await c.ExpectAsync("RCPT");
            await c.SendAsync(pipelining ? "250 ok\r\n250 ok\r\n" : "250 ok\r\n");
            Assert.False(await ReadChunkAsync(c));
            bdats++;
            await c.ReplyAsync("421 4.3.2 mx.test Service shutting down");
            if (pipelining)
            {
                // Read what was pipelined already (so that closing sends FIN, not RST), then close.
                while (!await ReadChunkAsync(c))
                {
                    bdats++;
                }

                bdats++;
                c.Close();
            }
            else
            {
                Assert.True(await c.ClientClosesAsync(TimeSpan.FromSeconds(5)), "no chunk may follow the 421");
            }
        });
        var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(BigMessage));
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpFailureKind.Rejected, result.Failure!.Kind);
        Assert.Equal(421, result.Failure.Reply!.Code);
        Assert.Equal("4.3.2 mx.test Service shutting down", result.Recipients[0].Reply!.Text);
        Assert.False(result.Recipients[0].IsDelivered);
        Assert.True(result.Failure.IsTransient);
        Assert.False(session.IsUsable);
        if (pipelining)
        {
            Assert.True(bdats >= 2, bdats.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            Assert.Equal(1, bdats);
        }

        await session.DisposeAsync();
    }

    [Fact]
    public async Task Pipelined_BDAT_refused_then_421_keeps_the_first_refusal_for_the_recipient_and_the_421_in_the_failure()
    {
        // The first refused chunk decides the message; the 421 that follows still reaches the failure (host backoff).
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.SendAsync("250 ok\r\n250 ok\r\n");
            Assert.False(await ReadChunkAsync(c));
            await c.ReplyAsync("552 5.3.4 Message too big");
            Assert.False(await ReadChunkAsync(c));
            await c.ReplyAsync("421 4.3.2 mx.test Service shutting down");
            while (!await ReadChunkAsync(c))
            {
            }

            c.Close();
        });
        var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(BigMessage));
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpTransactionOutcome.MessageRejected, result.Outcome);
        Assert.Equal("5.3.4 Message too big", result.Recipients[0].Reply!.Text);
        Assert.Equal(421, result.Failure!.Reply!.Code);
        Assert.False(session.IsUsable);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task Reply_421_to_a_pipelined_RSET_is_reported_as_the_421_and_closes_the_session()
    {
        // Stops: the 421 to RSET being read as "the connection is closed" with no reply, so that the report misses
        // the 421 and the host gets no backoff.
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 ok\r\n550 5.1.1 unknown\r\n554 5.5.1 Error: no valid recipients\r\n");
            await c.ExpectAsync("RSET");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.ReplyAsync("421 4.4.2 mx.test Error: timeout exceeded");
            c.Close();
        });
        var session = await ConnectAsync(server);

        var first = await session.SendAsync(new SmtpEnvelope("a@client.test", "bad@mx.test"), Content());
        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpTransactionOutcome.NoRecipientsAccepted, first.Outcome);
        Assert.Equal(SmtpFailureKind.Rejected, second.Failure!.Kind);
        Assert.Equal(421, second.Failure.Reply!.Code);
        Assert.Equal("4.4.2 mx.test Error: timeout exceeded", second.Recipients[0].Reply!.Text);
        Assert.False(second.Recipients[0].IsDelivered);
        Assert.False(session.IsUsable);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task Reply_421_to_RSET_without_PIPELINING_is_reported_as_the_421_and_MAIL_is_not_sent()
    {
        var dialogue = new SmtpDialogue
        {
            EhloReply = "250 mx.test",
            Respond = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? "550 5.1.1 unknown" : line == "RSET" ? "421 4.4.2 mx.test closing" : null,
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        var session = await ConnectAsync(server);

        await session.SendAsync(new SmtpEnvelope("a@client.test", "bad@mx.test"), Content());
        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());

        Assert.Equal(421, second.Failure!.Reply!.Code);
        Assert.Equal(421, second.Recipients[0].Reply!.Code);
        Assert.False(session.IsUsable);
        Assert.Equal("RSET", dialogue.Commands.Last());
        await session.DisposeAsync();
    }

    // ----------------------------------------------------------------------------------------------------------
    // Item 5: a 354 that will not be followed by content.
    // ----------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("451 4.3.0 Temporary sender problem")]
    [InlineData("550 5.7.1 Sender rejected")]
    public async Task MAIL_refused_with_354_to_the_pipelined_DATA_drops_the_connection_instead_of_sending_commands_into_the_data(string mailReply)
    {
        // Stops: a session in the server's DATA state going back to the pool as usable, where the next transaction's
        // RSET and MAIL become message text and the send hangs until MailFromTimeout.
        bool? closedWithoutMore = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync(mailReply + "\r\n503 5.5.1 Error: need MAIL command\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
            closedWithoutMore = await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        });
        var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpTransactionOutcome.SenderRejected, result.Outcome);
        Assert.Equal(mailReply[4..], result.Recipients[0].Reply!.Text);
        Assert.Equal(354, result.DataReply!.Code);
        Assert.True(closedWithoutMore, "the client must close the connection, sending nothing after the 354");
        Assert.False(session.IsUsable);
        await session.DisposeAsync();
    }

    // ----------------------------------------------------------------------------------------------------------
    // Item 8: HELO after any refusal of EHLO but 421.
    // ----------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("501 5.5.4 Syntax: EHLO hostname")]
    [InlineData("550 5.7.1 EHLO not allowed")]
    [InlineData("554 5.7.1 No ESMTP for you")]
    [InlineData("451 4.3.0 Try HELO")]
    [InlineData("500 5.5.1 Command unrecognized")]
    public async Task EHLO_refused_with_anything_but_421_falls_back_to_HELO_as_Postfix_does(string ehloReply)
    {
        // Stops: a server that refuses EHLO with 501 or 550 but takes HELO (RFC 5321 section 4.1.4) being unreachable.
        var dialogue = new SmtpDialogue { EhloReply = ehloReply };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(SmtpSessionConnectTests.Options());

        var connected = await session.ConnectAsync(server.EndPoint, "mx.test");
        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());

        Assert.True(connected.IsSuccess, connected.ToString());
        Assert.False(session.Capabilities.IsExtended);
        Assert.True(result.IsDelivered, result.ToString());
        Assert.Equal(new[] { "EHLO client.test", "HELO client.test" }, dialogue.Commands.Take(2));
    }

    [Fact]
    public async Task EHLO_421_closes_the_session_without_HELO_or_QUIT()
    {
        var dialogue = new SmtpDialogue { EhloReply = "421 4.3.2 mx.test Service not available" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(SmtpSessionConnectTests.Options());

        var connected = await session.ConnectAsync(server.EndPoint, "mx.test");
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpPhase.Hello, connected.Failure!.Phase);
        Assert.Equal(421, connected.Failure.Reply!.Code);
        Assert.Equal("EHLO client.test", Assert.Single(dialogue.Commands));
        Assert.False(session.IsUsable);
    }

    [Fact]
    public async Task EHLO_refused_and_the_connection_closed_at_HELO_reports_the_EHLO_refusal()
    {
        var dialogue = new SmtpDialogue
        {
            EhloReply = "554 5.7.1 mx.test: your host is blocked",
            Respond = line => line.StartsWith("HELO", StringComparison.Ordinal) ? SmtpDialogue.Drop : null,
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = new SmtpSession(SmtpSessionConnectTests.Options());

        var connected = await session.ConnectAsync(server.EndPoint, "mx.test");

        Assert.Equal(SmtpFailureKind.Rejected, connected.Failure!.Kind);
        Assert.Equal(SmtpPhase.Hello, connected.Failure.Phase);
        Assert.Equal("5.7.1 mx.test: your host is blocked", connected.Failure.Reply!.Text);
        Assert.False(connected.Failure.IsTransient);
        Assert.False(session.IsUsable);
    }
}
