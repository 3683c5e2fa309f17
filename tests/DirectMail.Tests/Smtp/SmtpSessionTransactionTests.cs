using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>Mail transactions against scripted servers: per-recipient replies, pipelining, content, and each failure.</summary>
public sealed class SmtpSessionTransactionTests
{
    private const string Message = "From: a@client.test\r\nTo: b@mx.test\r\nSubject: test\r\n\r\nHello.\r\n";

    private static SmtpContent Content(string text = Message) => SmtpContent.FromBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>Greets, offers PIPELINING, and reads one pipelined MAIL, RCPT and DATA without answering them yet.</summary>
    private static async Task ReadPipelinedBatchAsync(ScriptedConnection c)
    {
        await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
        await c.ExpectAsync("MAIL");
        await c.ExpectAsync("RCPT");
        await c.ExpectAsync("DATA");
    }

    private static async Task<SmtpSession> ConnectAsync(ScriptedSmtpServer server, Action<SmtpSessionOptions>? configure = null)
    {
        var session = new SmtpSession(SmtpSessionConnectTests.Options(configure));
        var result = await session.ConnectAsync(server.EndPoint, "mx.test");
        Assert.True(result.IsSuccess, result.ToString());
        return session;
    }

    [Fact]
    public async Task Delivered_message_arrives_byte_for_byte_with_SIZE_declared()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.Delivered, result.Outcome);
        Assert.Null(result.Failure);
        var recipient = Assert.Single(result.Recipients);
        Assert.True(recipient.IsDelivered);
        Assert.Equal("2.0.0 Ok: queued as 4XyZ", recipient.Reply!.Text);
        Assert.Equal(250, result.FinalReply!.Code);
        Assert.Equal(354, result.DataReply!.Code);
        Assert.Equal(Message, Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)));
        Assert.Contains($"MAIL FROM:<a@client.test> SIZE={Message.Length}", dialogue.Commands);
        Assert.True(session.IsUsable);
    }

    [Fact]
    public async Task With_PIPELINING_MAIL_every_RCPT_and_DATA_are_sent_before_any_reply()
    {
        // The server reads four commands before answering any: a client that waited for a reply would hang here.
        string[]? batch = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250 PIPELINING");
            batch = [await c.ExpectAsync("MAIL"), await c.ExpectAsync("RCPT"), await c.ExpectAsync("RCPT"), await c.ExpectAsync("DATA")];
            await c.SendAsync("250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n354 go\r\n");
            await c.ReadDataAsync();
            await c.ReplyAsync("250 queued");
            await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        });
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test", "nobody@mx.test"), Content());

        Assert.Equal(new[] { "MAIL FROM:<a@client.test>", "RCPT TO:<b@mx.test>", "RCPT TO:<nobody@mx.test>", "DATA" }, batch);
        Assert.Equal(SmtpTransactionOutcome.Delivered, result.Outcome);
        Assert.True(result.Recipients[0].IsDelivered);
        Assert.False(result.Recipients[1].IsDelivered);
        Assert.Equal(new EnhancedStatusCode(5, 1, 1), result.Recipients[1].Reply!.EnhancedStatusCode);
    }

    [Fact]
    public async Task Without_PIPELINING_the_client_waits_for_each_reply()
    {
        var waited = new bool[3];
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250 mx.test");
            await c.ExpectAsync("MAIL");
            waited[0] = await c.NothingArrivesAsync(TimeSpan.FromMilliseconds(150));
            await c.ReplyAsync("250 ok");
            await c.ExpectAsync("RCPT");
            waited[1] = await c.NothingArrivesAsync(TimeSpan.FromMilliseconds(150));
            await c.ReplyAsync("250 ok");
            await c.ExpectAsync("DATA");
            waited[2] = await c.NothingArrivesAsync(TimeSpan.FromMilliseconds(150));
            await c.ReplyAsync("354 go");
            await c.ReadDataAsync();
            await c.ReplyAsync("250 queued");
            await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        });
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.Delivered, result.Outcome);
        Assert.Equal(new[] { true, true, true }, waited);
    }

    [Fact]
    public async Task One_rejected_recipient_does_not_stop_the_others_and_each_keeps_its_own_reply()
    {
        var dialogue = new SmtpDialogue
        {
            Respond = line => line switch
            {
                "RCPT TO:<unknown@mx.test>" => "550 5.1.1 <unknown@mx.test>: Recipient address rejected: User unknown",
                "RCPT TO:<full@mx.test>" => "452-4.2.2 The email account that you tried to reach is over quota.\r\n452 4.2.2 Please direct the recipient to a help page.",
                _ => null,
            },
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "ok1@mx.test", "unknown@mx.test", "full@mx.test", "ok2@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.Delivered, result.Outcome);
        Assert.Equal(new[] { true, false, false, true }, result.Recipients.Select(r => r.IsDelivered));
        Assert.Equal(550, result.Recipients[1].Reply!.Code);
        Assert.Equal("5.1.1 <unknown@mx.test>: Recipient address rejected: User unknown", result.Recipients[1].Reply!.Text);
        Assert.Equal(452, result.Recipients[2].Reply!.Code);
        Assert.Equal(2, result.Recipients[2].Reply!.Lines.Count);
        Assert.True(result.Recipients[2].Reply!.IsTransientNegative);
        Assert.Equal(250, result.Recipients[3].Reply!.Code);
        Assert.Single(dialogue.Messages);
    }

    [Fact]
    public async Task No_accepted_recipient_means_no_content_is_sent_and_the_next_transaction_starts_with_RSET()
    {
        var dialogue = new SmtpDialogue
        {
            Respond = line => line.StartsWith("RCPT TO:<bad", StringComparison.Ordinal) ? "550 5.1.1 unknown"
                : line == "DATA" && !_secondTransaction ? "554 5.5.1 Error: no valid recipients"
                : null,
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var first = await session.SendAsync(new SmtpEnvelope("a@client.test", "bad1@mx.test", "bad2@mx.test"), Content());
        _secondTransaction = true;
        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "good@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.NoRecipientsAccepted, first.Outcome);
        Assert.Equal(554, first.DataReply!.Code);
        Assert.All(first.Recipients, r => Assert.Equal(550, r.Reply!.Code));
        Assert.Equal(SmtpTransactionOutcome.Delivered, second.Outcome);
        Assert.Single(dialogue.Messages);
        var commands = dialogue.Commands.ToList();
        Assert.Equal("RSET", commands[commands.FindLastIndex(c => c.StartsWith("MAIL", StringComparison.Ordinal)) - 1]);
        Assert.Equal(1, commands.Count(c => c == "RSET"));
    }

    private volatile bool _secondTransaction;

    [Fact]
    public async Task Server_answering_354_with_no_accepted_recipient_gets_no_content_and_the_connection_is_dropped()
    {
        // Stops: an empty message being delivered by a broken server when DATA is pipelined (MailKit's old bug).
        bool? closedWithoutContent = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await ReadPipelinedBatchAsync(c);
            await c.SendAsync("250 ok\r\n550 5.1.1 unknown\r\n354 go ahead anyway\r\n");
            closedWithoutContent = await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        });
        var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "bad@mx.test"), Content());
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpTransactionOutcome.NoRecipientsAccepted, result.Outcome);
        Assert.True(closedWithoutContent);
        Assert.False(session.IsUsable);
        await session.DisposeAsync();
    }

    [Theory]
    [InlineData("550 5.7.1 Sender rejected", false)]
    [InlineData("451 4.3.0 Temporary sender problem", true)]
    public async Task Refused_sender_fails_every_recipient_with_the_MAIL_reply(string mailReply, bool transient)
    {
        var dialogue = new SmtpDialogue
        {
            Respond = line => line.StartsWith("MAIL", StringComparison.Ordinal) ? mailReply
                : line.StartsWith("RCPT", StringComparison.Ordinal) ? "503 5.5.1 Error: need MAIL command"
                : line == "DATA" ? "503 5.5.1 Error: need RCPT command" : null,
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test", "c@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.SenderRejected, result.Outcome);
        Assert.Equal(transient, result.Failure!.IsTransient);
        Assert.All(result.Recipients, r => Assert.Same(result.MailFromReply, r.Reply));
        Assert.Empty(dialogue.Messages);
        Assert.True(session.IsUsable, "a refused sender leaves the connection usable for the next transaction");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Refused_DATA_is_DataRejected_with_its_reply(bool pipelining)
    {
        var dialogue = new SmtpDialogue { Respond = line => line == "DATA" ? "451 4.3.0 Queue full" : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server, o => o.UsePipelining = pipelining);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.DataRejected, result.Outcome);
        Assert.Equal(451, result.DataReply!.Code);
        Assert.Equal(451, result.Recipients[0].Reply!.Code);
        Assert.False(result.Recipients[0].IsDelivered);
        Assert.True(result.Recipients[0].IsAccepted);
        Assert.Empty(dialogue.Messages);
    }

    [Theory]
    [InlineData("554 5.7.1 Message rejected as spam", false)]
    [InlineData("451 4.7.1 Greylisted, try again in 5 minutes", true)]
    public async Task Refusal_after_the_final_dot_is_MessageRejected_for_every_accepted_recipient(string reply, bool transient)
    {
        var dialogue = new SmtpDialogue { DataAccepted = reply };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test", "c@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.MessageRejected, result.Outcome);
        Assert.Equal(SmtpPhase.DataTermination, result.Failure!.Phase);
        Assert.Equal(transient, result.Failure.IsTransient);
        Assert.All(result.Recipients, r => Assert.Same(result.FinalReply, r.Reply));
        Assert.All(result.Recipients, r => Assert.False(r.IsDelivered));
        Assert.True(session.IsUsable);
    }

    [Theory]
    [InlineData("MAIL", SmtpPhase.MailFrom)]
    [InlineData("RCPT", SmtpPhase.RcptTo)]
    [InlineData("DATA", SmtpPhase.DataInitiation)]
    [InlineData("<end-of-data>", SmtpPhase.DataTermination)]
    public async Task Connection_dropped_in_each_phase_is_ConnectionLost_in_that_phase(string at, SmtpPhase phase)
    {
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith(at, StringComparison.Ordinal) ? SmtpDialogue.Drop : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.Failed, result.Outcome);
        Assert.Equal(SmtpFailureKind.ConnectionLost, result.Failure!.Kind);
        Assert.Equal(phase, result.Failure.Phase);
        Assert.False(result.Recipients[0].IsDelivered);
        Assert.False(session.IsUsable);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content()));
    }

    [Fact]
    public async Task Connection_dropped_while_content_is_sent_is_ConnectionLost_and_nothing_is_stored()
    {
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await ReadPipelinedBatchAsync(c);
            await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            await c.ReadBytesAsync(1000);
            c.Reset();
        });
        await using var session = await ConnectAsync(server);
        var big = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 200_000));

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(big));

        Assert.Equal(SmtpFailureKind.ConnectionLost, result.Failure!.Kind);
        Assert.Contains(result.Failure.Phase, new[] { SmtpPhase.Content, SmtpPhase.DataTermination });
    }

    [Fact]
    public async Task Reply_421_to_RCPT_ends_the_session_and_no_recipient_is_delivered()
    {
        var dialogue = new SmtpDialogue { Respond = line => line == "RCPT TO:<c@mx.test>" ? "421 4.7.0 Too many errors, closing" : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server, o => o.UsePipelining = false);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test", "c@mx.test", "d@mx.test"), Content());

        Assert.Equal(SmtpTransactionOutcome.Failed, result.Outcome);
        Assert.Equal(421, result.Failure!.Reply!.Code);
        Assert.All(result.Recipients, r => Assert.Equal(421, r.Reply!.Code));
        Assert.All(result.Recipients, r => Assert.False(r.IsDelivered));
        Assert.False(session.IsUsable);
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task Several_transactions_reuse_one_connection_and_NOOP_and_QUIT_work()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        for (var i = 0; i < 5; i++)
        {
            var result = await session.SendAsync(new SmtpEnvelope("a@client.test", $"r{i}@mx.test"), Content($"Subject: {i}\r\n\r\nbody {i}\r\n"));
            Assert.True(result.IsDelivered);
        }

        Assert.True(await session.NoOpAsync());
        await session.QuitAsync();
        await server.WaitForScriptsAsync();

        Assert.Equal(1, server.Accepted);
        Assert.Equal(5, dialogue.Messages.Count);
        Assert.DoesNotContain("RSET", dialogue.Commands);
        Assert.Equal("QUIT", dialogue.Commands.Last());
        Assert.False(session.IsUsable);
        Assert.False(await session.NoOpAsync());
    }

    [Fact]
    public async Task Dots_bare_line_ends_and_smuggling_sequences_arrive_as_ordinary_lines_of_one_message()
    {
        // Stops: SMTP smuggling — content that a receiver could read as the end of one message and the start of another.
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var content = "Subject: dots\r\n\r\n.leading dot\n.\nMAIL FROM:<forged@evil.test>\r.\rRCPT TO:<x@y>\n.\r\nDATA\r\n..\r\nend";

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(content));

        Assert.True(result.IsDelivered);
        var stored = Encoding.UTF8.GetString(Assert.Single(dialogue.Messages));
        Assert.Equal("Subject: dots\r\n\r\n.leading dot\r\n.\r\nMAIL FROM:<forged@evil.test>\r\n.\r\nRCPT TO:<x@y>\r\n.\r\nDATA\r\n..\r\nend\r\n", stored);
        Assert.DoesNotContain("MAIL FROM:<forged@evil.test>", dialogue.Commands);
    }

    [Fact]
    public async Task CHUNKING_sends_the_content_with_BDAT_unstuffed_in_chunks()
    {
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var body = string.Concat(Enumerable.Repeat(".dotted line that stays as it is\r\n", 5000));
        var content = "Subject: chunks\r\n\r\n" + body;

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(content));

        Assert.True(result.IsDelivered, result.ToString());
        Assert.Equal(content, Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)));
        var bdat = dialogue.Commands.Where(c => c.StartsWith("BDAT", StringComparison.Ordinal)).ToArray();
        Assert.True(bdat.Length >= 3, "170 KB must take several 64 KiB chunks");
        Assert.EndsWith(" LAST", bdat[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("DATA", dialogue.Commands);
    }

    [Fact]
    public async Task Transactions_after_a_BDAT_transaction_stay_in_step_with_the_server()
    {
        // A BDAT chunk is encoded after a reserved gap; the next command must start at the front of the buffer again.
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var first = await session.SendAsync(new SmtpEnvelope("a@client.test", "one@mx.test"), Content("Subject: 1\r\n\r\none\r\n"));
        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "two@mx.test"), Content("Subject: 2\r\n\r\ntwo\r\n"));
        Assert.True(await session.NoOpAsync());

        Assert.True(first.IsDelivered);
        Assert.True(second.IsDelivered);
        Assert.Equal(
            new[] { "EHLO client.test", "MAIL FROM:<a@client.test>", "RCPT TO:<one@mx.test>", "BDAT 19 LAST", "MAIL FROM:<a@client.test>", "RCPT TO:<two@mx.test>", "BDAT 19 LAST", "NOOP" },
            dialogue.Commands);
    }

    [Fact]
    public async Task SIZE_counts_the_octets_as_sent_with_bare_line_ends_made_CRLF()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var content = "Subject: lf\n\nline\rline\r\nlast";

        await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(content));

        var stored = Assert.Single(dialogue.Messages);
        Assert.Contains($"MAIL FROM:<a@client.test> SIZE={stored.Length}", dialogue.Commands);
    }

    [Fact]
    public async Task BDAT_without_PIPELINING_waits_for_each_chunk_reply()
    {
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250 CHUNKING" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var content = "Subject: chunks\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 70) + "\r\n", 3000));

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(content));

        Assert.True(result.IsDelivered, result.ToString());
        Assert.Equal(content, Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)));
    }

    [Fact]
    public async Task BDAT_chunk_refused_makes_the_message_rejected()
    {
        var dialogue = new SmtpDialogue
        {
            EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING",
            Respond = line => line.StartsWith("BDAT", StringComparison.Ordinal) && !line.EndsWith("LAST", StringComparison.Ordinal) ? "552 5.3.4 Message too big" : line.EndsWith("LAST", StringComparison.Ordinal) ? "503 5.5.1 Error: previous chunk failed" : null,
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var content = "Subject: chunks\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 70) + "\r\n", 3000));

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(content));

        Assert.Equal(SmtpTransactionOutcome.MessageRejected, result.Outcome);
        Assert.Equal(552, result.Recipients[0].Reply!.Code);
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task Eight_bit_content_to_a_server_without_8BITMIME_is_refused_before_MAIL()
    {
        // Stops: raw 8-bit octets reaching a 7-bit server, which may strip the high bit and corrupt the message.
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250 PIPELINING" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content("Subject: x\r\n\r\nGrüße\r\n"));

        Assert.Equal(SmtpFailureKind.NotSupportedByServer, result.Failure!.Kind);
        Assert.Equal(new EnhancedStatusCode(5, 6, 3), result.Recipients[0].Reply!.EnhancedStatusCode);
        Assert.True(result.Recipients[0].Reply!.IsSynthetic);
        Assert.Equal(new[] { "EHLO client.test" }, dialogue.Commands);
        Assert.True(session.IsUsable);
    }

    [Fact]
    public async Task Eight_bit_content_is_declared_with_BODY_8BITMIME()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var text = "Subject: x\r\n\r\nGrüße\r\n";

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content(text));

        Assert.True(result.IsDelivered);
        Assert.Contains($"MAIL FROM:<a@client.test> SIZE={Encoding.UTF8.GetByteCount(text)} BODY=8BITMIME", dialogue.Commands);
        Assert.Equal(text, Encoding.UTF8.GetString(Assert.Single(dialogue.Messages)));
    }

    [Fact]
    public async Task Stream_declared_seven_bit_holding_8_bit_octets_is_abandoned_before_its_end()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        // A forward-only stream is not scanned up front (a seekable one would be found 8-bit), so the declaration stands.
        using var stream = new ForwardOnlyStream(Encoding.UTF8.GetBytes("Subject: x\r\n\r\nGrüße\r\n"));

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromStream(stream, SmtpBodyType.SevenBit));

        Assert.Equal(SmtpFailureKind.InvalidContent, result.Failure!.Kind);
        Assert.Contains("declared 7-bit", result.Failure.Message, StringComparison.Ordinal);
        Assert.Empty(dialogue.Messages);
        Assert.False(session.IsUsable);
    }

    [Fact]
    public async Task UTF8_recipient_without_SMTPUTF8_fails_alone_with_5_6_7_and_is_never_sent()
    {
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250 PIPELINING" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test", "δοκιμή@mx.test"), Content());

        Assert.True(result.IsDelivered);
        Assert.True(result.Recipients[0].IsDelivered);
        Assert.Equal(553, result.Recipients[1].Reply!.Code);
        Assert.Equal(new EnhancedStatusCode(5, 6, 7), result.Recipients[1].Reply!.EnhancedStatusCode);
        Assert.DoesNotContain(dialogue.Commands, c => c.Contains("δοκιμή", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UTF8_recipient_with_SMTPUTF8_is_sent_with_the_SMTPUTF8_parameter()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "δοκιμή@mx.test"), Content());

        Assert.True(result.IsDelivered);
        Assert.Contains($"MAIL FROM:<a@client.test> SIZE={Message.Length} SMTPUTF8", dialogue.Commands);
        Assert.Contains("RCPT TO:<δοκιμή@mx.test>", dialogue.Commands);
    }

    [Fact]
    public async Task Message_over_the_servers_SIZE_limit_is_refused_before_MAIL()
    {
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('z', 98) + "\r\n", 20))));

        Assert.Equal(SmtpFailureKind.NotSupportedByServer, result.Failure!.Kind);
        Assert.Equal(552, result.Recipients[0].Reply!.Code);
        Assert.Equal(new[] { "EHLO client.test" }, dialogue.Commands);
    }

    [Fact]
    public async Task Line_over_998_octets_abandons_the_transaction_so_the_server_discards_it()
    {
        // Stops: a too-long line being silently rewritten, or half a message being delivered.
        bool? sawTerminator = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await ReadPipelinedBatchAsync(c);
            await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            try
            {
                await c.ReadDataAsync();
                sawTerminator = true;
            }
            catch (EndOfStreamException)
            {
                sawTerminator = false;
            }
        });
        await using var session = await ConnectAsync(server);

        // Raw bytes, files and seekable streams refuse such a line when the content is made; a forward-only stream
        // (or content of another kind) can only be caught by the session while it sends.
        var content = SmtpContent.FromStream(new ForwardOnlyStream(Encoding.ASCII.GetBytes("Subject: long\r\n\r\n" + new string('w', 1500) + "\r\n")));
        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), content);
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpFailureKind.InvalidContent, result.Failure!.Kind);
        Assert.Contains("Line 3", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(554, result.Recipients[0].Reply!.Code);
        Assert.False(sawTerminator);
    }

    [Fact]
    public async Task Content_source_that_throws_abandons_the_transaction()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromStream(new FailingStream()));

        Assert.Equal(SmtpFailureKind.ContentSourceFailed, result.Failure!.Kind);
        Assert.IsType<IOException>(result.Failure.Exception);
        Assert.False(result.Recipients[0].IsDelivered);
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task Cancellation_during_content_throws_closes_the_connection_and_nothing_is_stored()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), new SlowContent(cts), cts.Token));
        await server.WaitForScriptsAsync();

        Assert.False(session.IsUsable);
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task Forward_only_stream_can_be_sent_once()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var stream = new ForwardOnlyStream(Encoding.ASCII.GetBytes(Message));
        var content = SmtpContent.FromStream(stream);

        var first = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), content);
        Assert.True(first.IsDelivered);
        Assert.DoesNotContain("SIZE=", dialogue.Commands.First(c => c.StartsWith("MAIL", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(1, stream.EndReads);
        var reads = stream.Reads;

        // A second attempt with the same content cannot be the same message: it fails as a content source failure
        // (the connection dropped before any end of data, so the server discards what it had), the stream is not read
        // again (a later part of the source would go as a whole message), and the server stored one message only.
        var second = await session.SendAsync(new SmtpEnvelope("a@client.test", "c@mx.test"), content);
        Assert.False(second.IsDelivered);
        Assert.Equal(SmtpFailureKind.ContentSourceFailed, second.Failure?.Kind);
        Assert.Contains("already been sent once", second.Failure!.Message, StringComparison.Ordinal);
        Assert.Equal(reads, stream.Reads);
        Assert.Equal(1, stream.EndReads);
        Assert.Single(dialogue.Messages);
    }

    [Fact]
    public async Task Two_operations_at_once_are_refused()
    {
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("NOOP", StringComparison.Ordinal) ? SmtpDialogue.Silent : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server, o => o.Timeouts.Command = TimeSpan.FromMilliseconds(500));

        var noop = session.NoOpAsync().AsTask();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), Content()));
        Assert.False(await noop);
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("disk gone");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class SlowContent(CancellationTokenSource cancel) : SmtpContent
    {
        public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => SmtpBodyType.SevenBit;

        public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
        {
            await destination.WriteAsync("Subject: slow\r\n\r\n"u8.ToArray(), cancellationToken);
            cancel.CancelAfter(50);
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
        }
    }
}
