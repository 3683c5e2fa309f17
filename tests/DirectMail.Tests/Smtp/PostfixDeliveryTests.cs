using System.Net;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure.Postfix;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;

namespace DirectMail.Tests.Smtp;

/// <summary>Mail transactions of <see cref="SmtpSession"/> against a real Postfix, checked on the bytes Postfix stored.</summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixDeliveryTests
{
    private readonly PostfixFixture _postfix;

    public PostfixDeliveryTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task PlainMessageIsStoredByteForByte()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("plain");
        var content = Message(recipient, "Plain delivery", "Hello from DirectMail.\r\n\r\nSecond paragraph.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(Encoding.ASCII.GetString(content), Encoding.ASCII.GetString(stored.Content));
        Assert.Equal(content, stored.Content);
        Assert.Equal($"<{Sender}>", stored.ReturnPath);
        Assert.Equal(recipient, stored.DeliveredTo);
        Assert.False(session.IsEncrypted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DotLinesBareLineEndsAndSmugglingSequencesArriveAsOrdinaryLinesOfOneMessage(bool useChunking)
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("dots");
        var victim = PostfixFixture.Recipient("victim");

        // Everything an attacker or a sloppy producer could use to end the data early, then a second transaction
        // that must stay text of the first message.
        var body = string.Join(
            string.Empty,
            ".\r\n",
            "..two dots\r\n",
            ". dot space\r\n",
            "bare LF\n",
            "bare CR\r",
            "LF dot LF\n.\n",
            "CR dot CR\r.\r",
            "LF dot CRLF\n.\r\n",
            "CRLF dot CRLF\r\n.\r\n",
            "CR dot CRLF\r.\r\n",
            $"MAIL FROM:<attacker@client.test>\r\nRCPT TO:<{victim}>\r\nDATA\r\n",
            "Subject: smuggled\r\n\r\nsmuggled body\r\n.\r\n",
            "QUIT\r\n",
            "last line without line end.");
        var content = Message(recipient, "Dots and smuggling", body);
        var options = Options();
        options.UseChunking = useChunking;
        IPEndPoint client;
        await using (var session = await ConnectAsync(_postfix, options, transcript))
        {
            client = session.LocalEndPoint!;
            var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

            Assert.True(result.IsDelivered, $"{result}\n{transcript}");
            var stored = await _postfix.WaitForSingleDeliveryAsync(result);
            Assert.Equal(Encoding.ASCII.GetString(WireForm.NormalizeLineEnds(content)), Encoding.ASCII.GetString(stored.Content));
            Assert.True(session.IsUsable);
            await session.QuitAsync();
        }

        // Postfix's own count: one MAIL, one RCPT, one message.
        var summary = await _postfix.WaitForSessionSummaryAsync(client);
        Assert.Equal($"ehlo=1 mail=1 rcpt=1 {(useChunking ? "bdat=1" : "data=1")} quit=1 commands=5", summary);
        Assert.DoesNotContain("to=<" + victim + ">", _postfix.ReadLog(), System.StringComparison.Ordinal);
    }

    [Fact]
    public async Task MixedRecipientsGetTheirOwnRepliesAndOnlyTheAcceptedOneIsStored()
    {
        var transcript = new Transcript();
        var accepted = PostfixFixture.Recipient("mixed");
        var content = Message(accepted, "Mixed recipients", "One of two.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, accepted, PostfixFixture.UnknownRecipient), SmtpContent.FromBytes(content));

        Assert.Equal(SmtpTransactionOutcome.Delivered, result.Outcome);
        var good = result.Recipients[0];
        var unknown = result.Recipients[1];
        Assert.Equal(accepted, good.Address);
        Assert.True(good.IsAccepted);
        Assert.True(good.IsDelivered);
        Assert.Equal(250, good.RcptReply!.Code);
        Assert.Equal(250, good.Reply!.Code);
        Assert.Equal(PostfixFixture.UnknownRecipient, unknown.Address);
        Assert.False(unknown.IsAccepted);
        Assert.False(unknown.IsDelivered);
        Assert.Equal(550, unknown.RcptReply!.Code);
        Assert.Equal(new EnhancedStatusCode(5, 1, 1), unknown.RcptReply.EnhancedStatusCode);
        Assert.Contains("User unknown in virtual mailbox table", unknown.RcptReply.Text, System.StringComparison.Ordinal);
        Assert.Same(unknown.RcptReply, unknown.Reply);

        var stored = await _postfix.WaitForDeliveryAsync(result);
        var message = Assert.Single(stored);
        Assert.Equal(accepted, message.DeliveredTo);
        Assert.Equal(content, message.Content);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SeveralTransactionsOnOneConnectionAreEachStored(bool useChunking)
    {
        var transcript = new Transcript();
        var options = Options();
        options.UseChunking = useChunking;
        IPEndPoint client;
        var messages = new[]
        {
            (Recipient: PostfixFixture.Recipient("first"), Content: Message(PostfixFixture.Recipient("first"), "First", "One.\r\n")),
            (Recipient: PostfixFixture.Recipient("second"), Content: Message(PostfixFixture.Recipient("second"), "Second", Body(20_000, seed: 2))),
            (Recipient: PostfixFixture.Recipient("third"), Content: Message(PostfixFixture.Recipient("third"), "Third", "Three.\r\n")),
        };

        await using (var session = await ConnectAsync(_postfix, options, transcript))
        {
            client = session.LocalEndPoint!;
            foreach (var (recipient, content) in messages)
            {
                var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

                Assert.True(result.IsDelivered, $"{result}\n{transcript}");
                var stored = await _postfix.WaitForSingleDeliveryAsync(result);
                Assert.Equal(recipient, stored.DeliveredTo);
                Assert.Equal(content, stored.Content);
            }

            await session.QuitAsync();
        }

        // Postfix's own count of what it received: three transactions and nothing else.
        var summary = await _postfix.WaitForSessionSummaryAsync(client);
        Assert.Equal($"ehlo=1 mail=3 rcpt=3 {(useChunking ? "bdat=3" : "data=3")} quit=1 commands=11", summary);
    }

    [Fact]
    public async Task SessionStaysInStepWithTheServerAfterABdatTransaction()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("instep");
        var content = Message(recipient, "In step", "Sent with BDAT.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);
        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));
        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var client = session.LocalEndPoint!;

        var noop = await session.NoOpAsync();
        await session.QuitAsync();

        // After the last BDAT, the next command must be the only thing on the wire: NOOP gets its own 250.
        var summary = await _postfix.WaitForSessionSummaryAsync(client);
        Assert.True(noop, $"NOOP after a BDAT transaction was not answered 250.\nPostfix counted: {summary}\n{transcript}");
        Assert.Equal("ehlo=1 mail=1 rcpt=1 bdat=1 noop=1 quit=1 commands=6", summary);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WithoutPipeliningEachCommandWaitsForItsReplyAndMixedRecipientsAreHandled(bool useChunking)
    {
        var transcript = new Transcript();
        var accepted = PostfixFixture.Recipient("nopipelining");
        var content = Message(accepted, "No pipelining", Body(100_000, seed: 6));
        var options = Options();
        options.UsePipelining = false;
        options.UseChunking = useChunking;
        await using var session = await ConnectAsync(_postfix, options, transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, PostfixFixture.UnknownRecipient, accepted), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        Assert.Equal(550, result.Recipients[0].RcptReply!.Code);
        Assert.True(result.Recipients[1].IsDelivered);
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(accepted, stored.DeliveredTo);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task TransactionAfterOneWithEveryRecipientRefusedIsDelivered()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("afterrefusal");
        var content = Message(recipient, "After a refusal", "Delivered after RSET.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var refused = await session.SendAsync(new SmtpEnvelope(Sender, PostfixFixture.UnknownRecipient), SmtpContent.FromBytes(content));
        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.Equal(SmtpTransactionOutcome.NoRecipientsAccepted, refused.Outcome);
        Assert.Equal(550, refused.Recipients[0].Reply!.Code);
        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task EightBitContentIsDeclaredBody8BitMimeAndStoredUnchanged()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("eightbit");
        var content = Message(recipient, "8-bit", "Grüße aus Köln, ½ € für “quotes”, 日本語.\r\nZweite Zeile: ÄÖÜß.\r\n", "text/plain; charset=utf-8", "8bit");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        Assert.True(session.Capabilities.Supports(SmtpExtensions.EightBitMime));
        var mailFrom = Assert.Single(transcript.ClientLines, l => l.StartsWith("MAIL FROM:", System.StringComparison.Ordinal));
        Assert.Contains(" BODY=8BITMIME", mailFrom, System.StringComparison.Ordinal);
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(Encoding.UTF8.GetString(content), Encoding.UTF8.GetString(stored.Content));
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task Utf8SenderIsSentWithSmtpUtf8AndStored()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("utf8");
        const string sender = "jörg@client.test";
        var content = Message(recipient, "SMTPUTF8", "Sender with a UTF-8 local part.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var result = await session.SendAsync(new SmtpEnvelope(sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var mailFrom = Assert.Single(transcript.ClientLines, l => l.StartsWith("MAIL FROM:", System.StringComparison.Ordinal));
        Assert.Equal($"MAIL FROM:<{sender}> SIZE={content.Length} SMTPUTF8", mailFrom);
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal($"<{sender}>", stored.ReturnPath);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task MailFromDeclaresTheMessageLengthWithSize()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("size");
        var content = Message(recipient, "SIZE", Body(5_000, seed: 3));
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        Assert.Equal(PostfixFixture.MessageSizeLimit, session.Capabilities.MaxMessageSize);
        var mailFrom = Assert.Single(transcript.ClientLines, l => l.StartsWith("MAIL FROM:", System.StringComparison.Ordinal));
        Assert.Equal($"MAIL FROM:<{Sender}> SIZE={content.Length}", mailFrom);
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task MessageOverTheServersSizeLimitIsRefusedBeforeAnythingIsSent()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("toolarge");
        var content = Message(recipient, "Too large", Body(PostfixFixture.MessageSizeLimit + 1, seed: 4));
        await using var session = await ConnectAsync(_postfix, Options(), transcript);
        var afterConnect = transcript.ClientLines.Count;

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.Equal(SmtpTransactionOutcome.Failed, result.Outcome);
        Assert.Equal(SmtpFailureKind.NotSupportedByServer, result.Failure!.Kind);
        Assert.False(result.Failure.IsTransient);
        var reply = result.Recipients[0].Reply!;
        Assert.True(reply.IsSynthetic);
        Assert.Equal(552, reply.Code);
        Assert.Equal(new EnhancedStatusCode(5, 3, 4), reply.EnhancedStatusCode);
        Assert.Equal(afterConnect, transcript.ClientLines.Count);
        Assert.True(session.IsUsable);
        Assert.True(await session.NoOpAsync());
    }

    [Fact]
    public async Task ChunkingServerGetsTheMessageInBdatChunksAndStoresIt()
    {
        var transcript = new Transcript();
        var content = ChunkedOrNotMessage();
        await using var session = await ConnectAsync(_postfix, Options(), transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, ChunkingRecipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        Assert.True(session.Capabilities.Supports(SmtpExtensions.Chunking));
        var chunks = transcript.ClientLines.Where(l => l.StartsWith("BDAT ", System.StringComparison.Ordinal)).ToArray();
        Assert.True(chunks.Length > 1, string.Join('\n', chunks));
        Assert.EndsWith(" LAST", chunks[^1], System.StringComparison.Ordinal);
        Assert.DoesNotContain("DATA", transcript.ClientLines);
        Assert.Equal(content.Length, chunks.Sum(c => int.Parse(c.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)));
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task DataIsUsedWhenChunkingIsOffAndStoresTheSameBytes()
    {
        var transcript = new Transcript();
        var content = ChunkedOrNotMessage();
        var options = Options();
        options.UseChunking = false;
        await using var session = await ConnectAsync(_postfix, options, transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, ChunkingRecipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        Assert.Contains("DATA", transcript.ClientLines);
        Assert.DoesNotContain(transcript.ClientLines, l => l.StartsWith("BDAT", System.StringComparison.Ordinal));
        Assert.Equal(354, result.DataReply!.Code);
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(content, stored.Content);
    }

    private static string ChunkingRecipient => PostfixFixture.Recipient("chunks");

    /// <summary>The same bytes for the BDAT and the DATA test: 300 KB, several 64 KiB chunks, dotted lines.</summary>
    private static byte[] ChunkedOrNotMessage() => Message(ChunkingRecipient, "BDAT or DATA", Body(300_000, seed: 5), messageId: "bdat-or-data@client.test");
}
