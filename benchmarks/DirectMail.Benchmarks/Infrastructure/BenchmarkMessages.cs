using System.Text;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>The messages both clients send: the same bytes, 7-bit, CRLF, lines of 76 octets.</summary>
public static class BenchmarkMessages
{
    public const string Sender = "sender@bench.directmail.test";
    public const string Recipient = "recipient@sink.directmail.test";
    public const string HeloName = "bench.directmail.test";

    /// <summary>A complete message of about <paramref name="size"/> octets (within two), headers included.</summary>
    public static byte[] Create(int size)
    {
        var text = new StringBuilder(size + 128);
        text.Append("From: Sender <").Append(Sender).Append(">\r\n")
            .Append("To: <").Append(Recipient).Append(">\r\n")
            .Append("Subject: Benchmark message of ").Append(size).Append(" octets\r\n")
            .Append("Date: Wed, 26 Nov 2025 10:00:00 +0000\r\n")
            .Append("Message-ID: <benchmark-").Append(size).Append("@bench.directmail.test>\r\n")
            .Append("MIME-Version: 1.0\r\n")
            .Append("Content-Type: text/plain; charset=us-ascii\r\n")
            .Append("Content-Transfer-Encoding: 7bit\r\n")
            .Append("\r\n");

        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-";
        var line = 0;
        while (text.Length < size)
        {
            var room = size - text.Length - 2;
            var length = room < 76 ? room : 76;
            if (length <= 0)
            {
                text.Append("\r\n");
                break;
            }

            for (var i = 0; i < length; i++)
            {
                // Some lines start with a dot, so DATA needs dot-stuffing as real mail sometimes does.
                text.Append(i == 0 && line % 50 == 49 ? '.' : alphabet[((line * 7) + i) % alphabet.Length]);
            }

            text.Append("\r\n");
            line++;
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
