using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;
using DirectMail.Smtp;
using static DirectMail.Tests.Mime.MimeTestSupport;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// The same octets, given as bytes, a file, a seekable stream or a forward-only stream (as the mailer reads it, into a
/// spool), are the same content: the same octets on the wire, the same SIZE, body type and SMTPUTF8 need, and the
/// same error. Stops the raw-message factories drifting apart again.
/// </summary>
public sealed class SmtpContentConvergenceTests : IDisposable
{
    private static readonly string[] Factories =
    {
        "bytes",
        "file",
        "seekable stream",
        "seekable stream, spooled for several domains",
        "forward-only stream, spooled by the mailer",
    };

    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    public static TheoryData<string, string, bool, bool> Messages => new()
    {
        // the message; its DATA wire form (line ends CRLF, dots doubled, the terminator); 8-bit; UTF-8 headers
        { "Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n.\r\n", false, false },
        { "Subject: a\n\nbody\nline\n", "Subject: a\r\n\r\nbody\r\nline\r\n.\r\n", false, false },
        { "Subject: a\r\rbody\r", "Subject: a\r\n\r\nbody\r\n.\r\n", false, false },
        { "Subject: a\r\n\nbody\rline\n\r\n", "Subject: a\r\n\r\nbody\r\nline\r\n\r\n.\r\n", false, false },
        { "Subject: a\r\n\r\nGrüße\r\n", "Subject: a\r\n\r\nGrüße\r\n.\r\n", true, false },
        { "Subject: Grüße\r\n\r\nbody\r\n", "Subject: Grüße\r\n\r\nbody\r\n.\r\n", true, true },
        { "", ".\r\n", false, false },
        { "Subject: a\r\n\r\n.\r\n..x\n.\r.y", "Subject: a\r\n\r\n..\r\n...x\r\n..\r\n..y\r\n.\r\n", false, false },
        { "Subject: a\r\n\r\nlast", "Subject: a\r\n\r\nlast\r\n.\r\n", false, false },
        { "Subject: a\r\n\r\n.", "Subject: a\r\n\r\n..\r\n.\r\n", false, false },
        { "Subject: a\r\n\r\nGrüße", "Subject: a\r\n\r\nGrüße\r\n.\r\n", true, false },
    };

    public static TheoryData<string, long, long> NulMessages => new()
    {
        // the message, the NUL's offset and line
        { "Subject: a\r\n\r\nbo\0dy\r\n", 16, 3 },
        { "Subject: a\n\nbo\0dy\n", 14, 3 },
        { "Subject: a\r\rbo\0dy\r", 14, 3 },
        { "\0", 0, 1 },
        { "Subject: a\r\n\r\nbody\r\n\0", 20, 4 },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public async Task Every_factory_puts_the_same_octets_on_the_wire_with_the_same_size_and_type(string message, string wire, bool eightBit, bool utf8Headers)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var size = Encode(bytes, dotStuffing: false).Length; // the octets as BDAT sends them: what SIZE declares
        var expected = new List<string>();
        var actual = new List<string>();
        await using var spools = new ContentSpools();
        foreach (var factory in Factories)
        {
            var content = await MakeAsync(factory, bytes, spools);
            expected.Add($"{factory}: {wire} | SIZE {size} | {(eightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit)} | SMTPUTF8 {utf8Headers}");
            actual.Add($"{factory}: {OnTheWire(content)} | SIZE {content.GetLength(EightBit)} | {content.GetBodyType(EightBit)} | SMTPUTF8 {content.RequiresSmtpUtf8}");
            Assert.Equal(wire, OnTheWire(content)); // written again, as after a fallback
        }

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(NulMessages))]
    public async Task Every_factory_refuses_a_nul_octet_before_anything_is_sent_naming_where_it_is(string message, long offset, long line)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        await using var spools = new ContentSpools();
        foreach (var factory in Factories)
        {
            var e = await Assert.ThrowsAsync<SmtpContentException>(() => MakeAsync(factory, bytes, spools));
            Assert.Equal($"{factory}: offset {offset}, line {line}, Line {line} of the content holds a NUL octet (offset {offset})", $"{factory}: offset {e.Offset}, line {e.Line}, {Reason(e)}");
        }
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("\r")]
    public async Task Every_factory_refuses_a_line_over_998_octets_before_anything_is_sent_naming_it(string newline)
    {
        var bytes = Encoding.ASCII.GetBytes("Subject: a" + newline + newline + new string('x', 998) + newline + new string('y', 999));
        await using var spools = new ContentSpools();
        foreach (var factory in Factories)
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => MakeAsync(factory, bytes, spools));
            Assert.Equal($"{factory}: Line 4 of the message is longer than 998 octets", $"{factory}: {Reason(e)}");
        }
    }

    [Fact]
    public void A_forward_only_stream_sent_by_a_session_itself_is_what_it_declares_and_its_octets_are_the_same()
    {
        // A session given the stream directly cannot scan it first: the declaration stands, no SIZE is known, and the
        // session's encoder puts the same octets on the wire as for the other forms.
        var content = SmtpContent.FromStream(new ForwardOnlyStream(Encoding.UTF8.GetBytes("Subject: a\n\n.\nGrüße")), SmtpBodyType.EightBit);
        Assert.Equal(SmtpBodyType.EightBit, content.GetBodyType(EightBit));
        Assert.Null(content.GetLength(EightBit));
        Assert.False(content.RequiresSmtpUtf8);
        Assert.Equal("Subject: a\r\n\r\n..\r\nGrüße\r\n.\r\n", OnTheWire(content));
    }

    private async Task<SmtpContent> MakeAsync(string factory, byte[] bytes, ContentSpools spools)
    {
        switch (factory)
        {
            case "bytes":
                return SmtpContent.FromBytes(bytes);
            case "file":
                await File.WriteAllBytesAsync(_path, bytes);
                return SmtpContent.FromFile(_path);
            case "seekable stream":
                return SmtpContent.FromStream(StreamAfterPrefix(bytes));
            case "seekable stream, spooled for several domains":
                return await SmtpContent.FromStream(StreamAfterPrefix(bytes)).ShareAsync(spools, concurrent: true, CancellationToken.None);
            case "forward-only stream, spooled by the mailer":
                return await SmtpContent.FromStream(new ForwardOnlyStream(bytes)).ShareAsync(spools, concurrent: false, CancellationToken.None);
            default:
                throw new ArgumentOutOfRangeException(nameof(factory), factory, null);
        }
    }

    /// <summary>A stream positioned after octets that are not part of the message: the content starts where the stream stood.</summary>
    private static MemoryStream StreamAfterPrefix(byte[] bytes)
    {
        var stream = new MemoryStream();
        stream.Write("not the message\r\n"u8);
        var start = stream.Position;
        stream.Write(bytes);
        stream.Position = start;
        return stream;
    }

    /// <summary>The content as a session sends it with DATA to a server offering 8BITMIME and SMTPUTF8.</summary>
    private static string OnTheWire(SmtpContent content)
    {
        using var written = new MemoryStream();
        content.WriteToAsync(written, EightBit, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(Encode(written.ToArray(), dotStuffing: true, sevenBitOnly: content.GetBodyType(EightBit) == SmtpBodyType.SevenBit));
    }

    private static byte[] Encode(byte[] input, bool dotStuffing, bool sevenBitOnly = false)
    {
        var encoder = new SmtpDataEncoder(dotStuffing, sevenBitOnly);
        var output = new byte[(input.Length * 2) + 16];
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode(input, output, out var consumed, out var length));
        Assert.Equal(input.Length, consumed);
        length += encoder.Complete(output.AsSpan(length));
        return output.AsSpan(0, length).ToArray();
    }

    /// <summary>The reason an error gives, up to its first semicolon or comma (the advice and the parameter name follow).</summary>
    private static string Reason(ArgumentException e)
    {
        var text = e.Message;
        var end = text.IndexOfAny(new[] { ';', ',' });
        return end < 0 ? text : text[..end];
    }
}
