using System;
using System.IO;
using System.Text;
using System.Threading;
using DirectMail.Smtp;
using static DirectMail.Tests.Mime.MimeTestSupport;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

public class SmtpContentFactoryTests
{
    private static readonly byte[] SevenBitMessage = Encoding.ASCII.GetBytes("From: a@example.com\r\nTo: b@example.com\r\nSubject: raw\r\n\r\nBody line\nbare LF line\r\n");
    private static readonly byte[] EightBitBody = Encoding.UTF8.GetBytes("From: a@example.com\r\nSubject: raw\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCafé\r\n");
    private static readonly byte[] Utf8Header = Encoding.UTF8.GetBytes("From: 用户@example.com\r\nSubject: raw\r\n\r\nBody\r\n");

    private static byte[] WriteRaw(SmtpContent content)
    {
        using var output = new MemoryStream();
        content.WriteToAsync(output, EightBit, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return output.ToArray();
    }

    [Fact]
    public void Bytes_are_sent_as_they_are_with_their_length_and_body_type()
    {
        var content = SmtpContent.FromBytes(SevenBitMessage);
        Assert.Equal(SevenBitMessage, WriteRaw(content)); // bare LF is left for the session's normaliser
        Assert.Equal(SevenBitMessage.Length + 1, content.GetLength(SevenBit)); // SIZE counts the bare LF as CRLF
        Assert.Equal(SmtpBodyType.SevenBit, content.GetBodyType(SevenBit));
        Assert.False(content.RequiresSmtpUtf8);

        var eightBit = SmtpContent.FromBytes(EightBitBody);
        Assert.Equal(SmtpBodyType.EightBit, eightBit.GetBodyType(SevenBit));
        Assert.False(eightBit.RequiresSmtpUtf8);

        var utf8 = SmtpContent.FromBytes(Utf8Header);
        Assert.Equal(SmtpBodyType.EightBit, utf8.GetBodyType(EightBit));
        Assert.True(utf8.RequiresSmtpUtf8);
    }

    [Fact]
    public void Files_are_scanned_up_front_and_read_again_for_each_attempt()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, EightBitBody);
            var content = SmtpContent.FromFile(path);
            Assert.Equal(SmtpBodyType.EightBit, content.GetBodyType(EightBit));
            Assert.Equal(EightBitBody.Length, content.GetLength(EightBit));
            Assert.Equal(EightBitBody, WriteRaw(content));
            Assert.Equal(EightBitBody, WriteRaw(content));
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<FileNotFoundException>(() => SmtpContent.FromFile("/nonexistent/message.eml"));
    }

    [Fact]
    public void Seekable_streams_are_scanned_and_rewound_to_their_start()
    {
        var stream = new MemoryStream();
        stream.Write("ignored prefix"u8);
        var start = stream.Position;
        stream.Write(Utf8Header);
        stream.Position = start;
        var content = SmtpContent.FromStream(stream);
        Assert.Equal(start, stream.Position);
        Assert.True(content.RequiresSmtpUtf8);
        Assert.Equal(SmtpBodyType.EightBit, content.GetBodyType(EightBit));
        Assert.Equal(Utf8Header.Length, content.GetLength(EightBit));
        Assert.Equal(Utf8Header, WriteRaw(content));
        Assert.Equal(Utf8Header, WriteRaw(content));
    }

    [Fact]
    public void Forward_only_streams_use_the_declared_body_type_and_are_sent_once()
    {
        var content = SmtpContent.FromStream(new ForwardOnlyStream(EightBitBody), SmtpBodyType.EightBit);
        Assert.Equal(SmtpBodyType.EightBit, content.GetBodyType(EightBit));
        Assert.Null(content.GetLength(EightBit));
        Assert.Equal(EightBitBody, WriteRaw(content));
        Assert.Throws<InvalidOperationException>(() => WriteRaw(content));
        Assert.Throws<ArgumentException>(() => SmtpContent.FromStream(new Unreadable()));
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("\r")]
    public void A_line_over_998_octets_is_refused_up_front_naming_the_line(string newline)
    {
        var text = "From: a@example.com" + newline + "Subject: x" + newline + newline + "ok" + newline + new string('x', 999) + newline + "end" + newline;
        var bytes = Encoding.ASCII.GetBytes(text);
        var exception = Assert.ThrowsAny<ArgumentException>(() => SmtpContent.FromBytes(bytes));
        Assert.Contains("Line 5 ", exception.Message, StringComparison.Ordinal);

        Assert.Contains("Line 5 ", Assert.ThrowsAny<ArgumentException>(() => SmtpContent.FromStream(new MemoryStream(bytes))).Message, StringComparison.Ordinal);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            Assert.Contains("Line 5 ", Assert.ThrowsAny<ArgumentException>(() => SmtpContent.FromFile(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }

        // 998 octets exactly is allowed, also when the line spans chunks of the scan.
        var ok = Encoding.ASCII.GetBytes("Subject: x" + newline + newline + new string('y', 70_000 % 998) + newline + new string('x', 998) + newline);
        SmtpContent.FromStream(new MemoryStream(ok));
    }

    [Fact]
    public void A_long_line_across_scan_chunks_is_found()
    {
        var bytes = new byte[200_000];
        bytes.AsSpan().Fill((byte)'a');
        for (var i = 500; i < bytes.Length; i += 900)
        {
            bytes[i] = (byte)'\n';
        }

        SmtpContent.FromStream(new MemoryStream(bytes)); // every line under 998
        bytes[65_300] = (byte)'a'; // join two lines across the 64 KiB chunk edge
        Assert.ThrowsAny<ArgumentException>(() => SmtpContent.FromStream(new MemoryStream(bytes)));
    }

    [Theory]
    [InlineData("a\r\nb\r\n", 0)]
    [InlineData("a\nb\n", 2)]
    [InlineData("a\rb\r", 2)]
    [InlineData("a\r\nb", 2)]
    [InlineData("a\n\r\n\rb", 4)]
    [InlineData("", 0)]
    public void The_length_counts_every_line_end_as_crlf(string text, int extra)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(bytes.Length + extra, SmtpContent.FromBytes(bytes).GetLength(SevenBit));
        Assert.Equal(bytes.Length + extra, SmtpContent.FromStream(new MemoryStream(bytes)).GetLength(SevenBit));
    }

    [Fact]
    public void A_crlf_split_between_scan_chunks_is_one_line_end()
    {
        var bytes = new byte[65_536 + 10];
        bytes.AsSpan().Fill((byte)'a');
        for (var i = 100; i < bytes.Length - 20; i += 100)
        {
            bytes[i] = (byte)'\r';
            bytes[i + 1] = (byte)'\n';
        }

        bytes[65_535] = (byte)'\r';
        bytes[65_536] = (byte)'\n';
        bytes[^2] = (byte)'\r';
        bytes[^1] = (byte)'\n';
        Assert.Equal(bytes.Length, SmtpContent.FromStream(new MemoryStream(bytes)).GetLength(SevenBit));
    }

    private sealed class Unreadable : MemoryStream
    {
        public override bool CanRead => false;
    }
}
