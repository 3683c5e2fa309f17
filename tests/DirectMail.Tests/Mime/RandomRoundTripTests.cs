using System;
using System.Linq;
using System.Text;
using DirectMail.Mime;
using MimeKit;
using static DirectMail.Tests.Mime.MimeTestSupport;

namespace DirectMail.Tests.Mime;

/// <summary>
/// Seeded random messages from many scripts, with surrogate pairs, quotes, encoded-word look-alikes and long runs:
/// every one must have the wire form (CRLF, no line over 998, headers folded) and read back equal in MimeKit.
/// </summary>
public class RandomRoundTripTests
{
    private static readonly string[] Pieces =
    [
        "a", "Z", "0", "word", "Selamat", "pagi", ".", ",", "\"", "\\", "(", ")", "<", ">", "@", ":", ";", "=", "?", "=?", "?=", "_", "'", "*", "%", "/",
        "é", "ñ", "ß", "中", "文字", "あ", "한", "ع", "ربي", "ह", "िन्दी", "Ж", "Ω", "😀", "👨‍👩‍👧", "🇲🇾", "\u0301", "\u200d",
        new string('x', 90), new string('中', 40), string.Concat(Enumerable.Repeat("😀", 30)),
    ];

    private static string RandomText(Random random, int pieces, bool lineBreaks)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < pieces; i++)
        {
            if (i > 0)
            {
                var r = random.Next(10);
                builder.Append(lineBreaks && r == 0 ? "\r\n" : lineBreaks && r == 1 ? "\n" : r < 8 ? " " : string.Empty);
            }

            builder.Append(Pieces[random.Next(Pieces.Length)]);
        }

        // Leading, trailing and repeated spaces are not significant in a phrase; keep them out of the comparison.
        var text = builder.ToString().Trim();
        while (text.Contains("  ", StringComparison.Ordinal))
        {
            text = text.Replace("  ", " ", StringComparison.Ordinal);
        }

        return text.Length == 0 ? "x" : text;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_messages_read_back_equal(int seed)
    {
        var random = new Random(seed);
        for (var iteration = 0; iteration < 60; iteration++)
        {
            var message = new EmailMessage
            {
                From = new EmailAddress("from@example.com", RandomText(random, random.Next(1, 12), false)),
                Subject = RandomText(random, random.Next(1, 40), false),
                TextBody = RandomText(random, random.Next(0, 200), true),
                HtmlBody = random.Next(2) == 0 ? null : "<p>" + RandomText(random, random.Next(0, 200), true) + "</p>",
            };
            var toCount = random.Next(1, 6);
            for (var i = 0; i < toCount; i++)
            {
                message.To.Add($"to{i}@example.com", RandomText(random, random.Next(1, 8), false));
            }

            var fileName = RandomText(random, random.Next(1, 10), false);
            message.Attachments.Add(Attachment.FromBytes(Encoding.UTF8.GetBytes(fileName), fileName));
            message.Headers.Add("X-Random", RandomText(random, random.Next(1, 30), false));

            var eightBit = random.Next(2) == 0;
            var bytes = Write(message, Capabilities(eightBit));
            var parsed = Parse(bytes);
            var context = $"seed {seed} iteration {iteration}";
            Assert.True(message.Subject == parsed.Subject, context + " subject");
            Assert.True(message.From.DisplayName == parsed.From.Mailboxes.Single().Name, context + " from");
            Assert.Equal(message.To.Select(a => a.DisplayName), parsed.To.Mailboxes.Select(m => m.Name));
            Assert.True(message.Headers[0].Value == parsed.Headers["X-Random"], context + " header");
            Assert.Equal(WriterRoundTripTests.Normalize(message.TextBody), WriterRoundTripTests.Normalize(parsed.TextBody));
            if (message.HtmlBody is not null)
            {
                Assert.Equal(WriterRoundTripTests.Normalize(message.HtmlBody), WriterRoundTripTests.Normalize(parsed.HtmlBody));
            }

            var attachment = (MimePart)parsed.Attachments.Single();
            Assert.True(fileName == attachment.FileName, context + " file name");
            Assert.Equal(Encoding.UTF8.GetBytes(fileName), WriterRoundTripTests.Decode(attachment));
        }
    }
}
