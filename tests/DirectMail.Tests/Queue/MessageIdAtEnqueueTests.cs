using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.IO;
using DirectMail.Mime;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Tests.Queue;

/// <summary>
/// The <c>Message-ID</c> the queue keeps for each message (<see cref="QueueEntry.InternetMessageId"/>), read from the
/// stored header at enqueue: it is what correlates a bounce that names only the original's Message-ID (qmail's text
/// bounces quote the header and nothing else) back to the queued message. Read from at most
/// <see cref="MailQueue.MaxHeaderScan"/> octets, whether the content was spooled in memory or to a file, so a huge or
/// hostile header costs a bounded read; a field cut off at that bound, one in the body, or one longer than
/// <see cref="QueueEntry.MaxInternetMessageIdLength"/> is not kept (a truncated or invented id would correlate a bounce
/// with the wrong message).
/// </summary>
public sealed class MessageIdAtEnqueueTests
{
    private static string? Id(string message) => MailQueue.MessageIdIn(Encoding.ASCII.GetBytes(message), complete: true);

    [Theory]
    [InlineData("Message-ID: <plain.1@sender.example>\r\nSubject: x\r\n\r\nbody\r\n", "plain.1@sender.example")]
    [InlineData("Subject: x\r\nmessage-id:   <lower.case@sender.example>  \r\n\r\nbody\r\n", "lower.case@sender.example")]
    [InlineData("Subject: x\r\nMessage-ID:\r\n <folded.2@sender.example>\r\n\r\nbody\r\n", "folded.2@sender.example")]
    [InlineData("Subject: x\r\nMessage-ID:\r\n\t<folded.tab@sender.example>\r\nTo: a@b.example\r\n\r\n", "folded.tab@sender.example")]
    [InlineData("Message-ID: <first@sender.example>\r\nMessage-ID: <second@sender.example>\r\n\r\n", "first@sender.example")]
    [InlineData("Message-ID: <bare.lf@sender.example>\nSubject: x\n\nbody\n", "bare.lf@sender.example")]
    [InlineData("Subject: no id\r\n\r\nbody\r\n", null)]
    [InlineData("Subject: id only in the body\r\n\r\nMessage-ID: <body@sender.example>\r\n", null)]
    [InlineData("Message-ID: no-brackets@sender.example\r\n\r\n", null)]
    [InlineData("Message-ID: <>\r\n\r\n", null)]
    [InlineData("Message-ID: <with space@sender.example>\r\n\r\n", null)]
    [InlineData("Message-ID: junk <after.text@sender.example>\r\n\r\n", null)]
    [InlineData("Message-ID: <unterminated@sender.example\r\n\r\n", null)]
    [InlineData("X-Message-ID: <not.this.field@sender.example>\r\n\r\n", null)]
    public void The_id_is_the_header_fields_bracketed_value(string message, string? expected) => Assert.Equal(expected, Id(message));

    [Fact]
    public void An_id_of_the_longest_kept_length_is_kept_and_one_longer_is_not()
    {
        // Stops: a store column overflowing, or a prefix of a longer id kept (it would match another message's id).
        var kept = new string('k', QueueEntry.MaxInternetMessageIdLength - "@s.example".Length) + "@s.example";
        var tooLong = "x" + kept;

        Assert.Equal(kept, Id($"Message-ID: <{kept}>\r\n\r\n"));
        Assert.Null(Id($"Message-ID: <{tooLong}>\r\n\r\n"));
    }

    [Fact]
    public void A_field_cut_off_at_the_scan_bound_is_not_read()
    {
        // Stops: a field whose value continues past the bound (a fold, or the rest of the id) being read half.
        var pad = Padding(MailQueue.MaxHeaderScan - 200);
        var field = "Message-ID: <cut@sender.example>";
        var start = Encoding.ASCII.GetBytes(pad + field);

        Assert.Null(MailQueue.MessageIdIn(start, complete: false));
        Assert.Equal("cut@sender.example", MailQueue.MessageIdIn(start, complete: true)); // the same octets, as the whole message
        Assert.Equal("cut@sender.example", MailQueue.MessageIdIn(Encoding.ASCII.GetBytes(pad + field + "\r\n"), complete: false)); // a whole line before the bound
    }

    [Theory]
    [InlineData(ContentSpool.DefaultMemoryLimit)] // in memory: read where it lies
    [InlineData(4096)] // spooled to a file: read back from it
    public async Task The_spool_is_read_up_to_the_bound_only(int memoryLimit)
    {
        // Stops: an id beyond the first 64 KiB of a header (a header made huge on purpose) costing an unbounded read,
        // and the file spool reading something other than the memory spool would.
        var near = Encoding.ASCII.GetBytes(Padding(1000) + "Message-ID: <near@sender.example>\r\n\r\n" + new string('b', 200_000) + "\r\n");
        var far = Encoding.ASCII.GetBytes(Padding(MailQueue.MaxHeaderScan + 100) + "Message-ID: <far@sender.example>\r\n\r\nbody\r\n");
        const string Field = "Message-ID: <exact@sender.example>\r\n";
        var exact = Encoding.ASCII.GetBytes(Padding(MailQueue.MaxHeaderScan - Field.Length) + Field);

        Assert.Equal("near@sender.example", await ReadAsync(near, memoryLimit));
        Assert.Null(await ReadAsync(far, memoryLimit));
        Assert.Equal(MailQueue.MaxHeaderScan, exact.Length);
        Assert.Equal("exact@sender.example", await ReadAsync(exact, memoryLimit)); // the whole message is the bound: nothing is cut
        Assert.Null(await ReadAsync([], memoryLimit));
    }

    [Fact]
    public async Task Enqueue_keeps_the_id_of_raw_content_of_a_message_and_of_content_spooled_to_a_file()
    {
        var queue = new MailQueue(new InMemoryQueueStore());
        var envelope = new SmtpEnvelope("news@client.test", "a@example.org");
        var folded = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Encoding.ASCII.GetBytes("Subject: x\r\nMessage-ID:\r\n  <raw.folded@client.test>\r\n\r\nx\r\n")));
        var message = new EmailMessage { From = new("news@client.test"), Subject = "Hello", TextBody = "Hello", MessageId = "mime.1@client.test" };
        message.To.Add(new("a@example.org"));
        var mime = await queue.EnqueueAsync(envelope, message.ToSmtpContent());
        var large = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Encoding.ASCII.GetBytes("Message-ID: <large@client.test>\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('b', 98) + "\r\n", 11_000)))));
        var none = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Encoding.ASCII.GetBytes("Subject: x\r\n\r\nx\r\n")));

        Assert.Equal("raw.folded@client.test", (await queue.GetAsync(folded))!.InternetMessageId);
        Assert.Equal("mime.1@client.test", (await queue.GetAsync(mime))!.InternetMessageId);
        Assert.Equal("large@client.test", (await queue.GetAsync(large))!.InternetMessageId);
        Assert.Null((await queue.GetAsync(none))!.InternetMessageId);
        Assert.Equal([mime], await queue.FindByInternetMessageIdAsync("mime.1@client.test"));
    }

    private static async Task<string?> ReadAsync(byte[] content, int memoryLimit)
    {
        await using var spool = new ContentSpool(memoryLimit);
        await spool.WriteAsync(content, default);
        await spool.CompleteAsync(default);
        Assert.Equal(content.Length > memoryLimit, spool.IsFile);
        return await MailQueue.ReadMessageIdAsync(spool, default);
    }

    /// <summary>Header fields of exactly <paramref name="length"/> octets: X-Pad lines of at most 998.</summary>
    private static string Padding(int length)
    {
        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            var line = Math.Min(900, length - text.Length);
            if (line < 10)
            {
                // Too short for a field of its own: lengthen the previous one.
                text.Insert(text.Length - 2, new string('p', line));
                break;
            }

            text.Append("X-Pad: ").Append('p', line - 9).Append("\r\n");
        }

        return text.ToString();
    }
}
