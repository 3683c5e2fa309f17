using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure.Postfix;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>BDAT without PIPELINING against a real Postfix (review of issue 10, item 4).</summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixChunkingReviewTests
{
    private readonly PostfixFixture _postfix;

    public PostfixChunkingReviewTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task BdatWithoutPipeliningStopsAtTheFirstRefusedChunkAndItsReplyDecides()
    {
        // Stops: chunks sent after Postfix refused one (RFC 3030 section 2 forbids it), whose replies then decided
        // the message instead of the first refusal. The message has no known length (a forward-only stream), so no
        // SIZE is declared and Postfix refuses the chunk that crosses message_size_limit.
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("chunklimit");
        var big = Message(recipient, "Too large, length unknown", Body(PostfixFixture.MessageSizeLimit + 300_000, seed: 11));
        var small = Message(recipient, "After the refused one", "Delivered on the same connection.\r\n");
        var options = Options();
        options.UsePipelining = false;
        await using var session = await ConnectAsync(_postfix, options, transcript);
        Assert.True(session.Capabilities.Supports(SmtpExtensions.Chunking | SmtpExtensions.Pipelining));

        var refused = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromStream(new ForwardOnlyStream(big)));
        var delivered = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(small));

        Assert.True(refused.Outcome == SmtpTransactionOutcome.MessageRejected, $"{refused}\n{transcript}");
        var reply = refused.Recipients[0].Reply!;
        Assert.Equal(552, reply.Code);
        Assert.Equal(new EnhancedStatusCode(5, 3, 4), reply.EnhancedStatusCode);
        Assert.True(delivered.IsDelivered, $"{delivered}\n{transcript}");

        // The first transaction's chunks: none is LAST, and the one Postfix refused was the last one sent.
        var lines = transcript.Lines.ToList();
        var reset = lines.IndexOf("C: RSET");
        Assert.True(reset > 0, transcript.ToString());
        var firstChunks = lines.Take(reset).Where(l => l.StartsWith("C: BDAT ", StringComparison.Ordinal)).ToList();
        Assert.True(firstChunks.Count > 1, transcript.ToString());
        Assert.DoesNotContain(firstChunks, l => l.EndsWith(" LAST", StringComparison.Ordinal));
        var lastChunk = lines.LastIndexOf(firstChunks[^1], reset);
        Assert.StartsWith("S: 552 5.3.4", lines[lastChunk + 1], StringComparison.Ordinal);
        Assert.Equal(firstChunks.Count - 1, lines.Take(reset).Count(l => l.StartsWith("S: 250 2.0.0 Ok: 65504 bytes", StringComparison.Ordinal)));

        // The next transaction, on the same connection, starts with RSET and is stored as sent.
        Assert.StartsWith("C: MAIL FROM:", lines[reset + 2], StringComparison.Ordinal);
        var stored = await _postfix.WaitForSingleDeliveryAsync(delivered);
        Assert.Equal(small, stored.Content);
    }
}
