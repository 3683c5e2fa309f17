using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Mime;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The MIME writer's bodies at the edges Stryker.NET found untested (README, "Mutation testing"): the exact
/// quoted-printable alphabet and its 76-character lines, base64 lines at multiples of 57 octets, the length counted
/// without reading a resource, the pooled buffer's growth when a slice meets its end, text slices around surrogate
/// pairs and line breaks, and how the writer hands its buffer to the destination stream.
/// </summary>
public sealed class MimeWriterBodyMutationTests
{
    private static async Task<byte[]> TextBodyAsync(string text, TransferEncoding encoding, int prefix = 0)
    {
        using var output = new MemoryStream();
        using (var writer = new MimeWriter(output, CancellationToken.None))
        {
            if (prefix > 0)
            {
                writer.WriteSimpleField("X:"u8, Encoding.ASCII.GetBytes(new string('p', prefix)));
            }

            await writer.WriteTextBodyAsync(text, encoding);
            await writer.FlushAsync();
        }

        var bytes = output.ToArray();
        return prefix > 0 ? bytes[(prefix + 5)..] : bytes; // "X: " + prefix + CRLF
    }

    private static async Task<string> QuotedPrintableAsync(string text) => Encoding.ASCII.GetString(await TextBodyAsync(text, TransferEncoding.QuotedPrintable));

    private static async Task<string> ResourceBodyAsync(EmailResource resource)
    {
        using var output = new MemoryStream();
        using (var writer = new MimeWriter(output, CancellationToken.None))
        {
            await writer.WriteResourceBodyAsync(resource);
            await writer.FlushAsync();
        }

        return Encoding.ASCII.GetString(output.ToArray());
    }

    /// <summary>RFC 2045 base64 in lines of 76 characters, as .NET writes it: the independent expectation.</summary>
    private static string Base64Lines(byte[] data) => Convert.ToBase64String(data, Base64FormattingOptions.InsertLineBreaks);

    private static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)(i * 7 + (i >> 8));
        }

        return data;
    }

    /// <summary>Decodes quoted-printable (RFC 2045 section 6.7) strictly: soft breaks, =XX in upper case, CRLF line ends.</summary>
    private static byte[] DecodeQuotedPrintable(string encoded)
    {
        var output = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c != '=')
            {
                output.Add((byte)c);
                continue;
            }

            if (encoded.AsSpan(i + 1).StartsWith("\r\n", StringComparison.Ordinal))
            {
                i += 2;
                continue;
            }

            var hex = encoded.Substring(i + 1, 2);
            Assert.Equal(hex.ToUpperInvariant(), hex);
            output.Add(Convert.ToByte(hex, 16));
            i += 2;
        }

        return output.ToArray();
    }

    // ------------------------------------------------------------------ quoted-printable

    [Fact]
    public async Task Quoted_printable_escapes_exactly_what_rfc2045_requires()
    {
        // Stops: any end of the literal ranges 33-60 and 62-126 moved ('!', '<', '>', '~' escaped for nothing, or
        // '=' and DEL left bare), the ranges and-ed with the white-space rule, or white space escaped in the middle.
        var wrong = new List<string>();
        for (var c = 1; c < 128; c++)
        {
            if (c is '\r' or '\n')
            {
                continue;
            }

            var literal = c is (>= 33 and <= 60) or (>= 62 and <= 126) or ' ' or '\t';
            var expected = "a" + (literal ? ((char)c).ToString() : $"={c:X2}") + "b";
            var written = await QuotedPrintableAsync("a" + (char)c + "b");
            if (written != expected)
            {
                wrong.Add($"0x{c:X2}: {written}");
            }
        }

        Assert.Empty(wrong);
        Assert.Equal("=C3=A9", await QuotedPrintableAsync("é"));
    }

    [Fact]
    public async Task White_space_is_escaped_only_where_it_ends_a_line()
    {
        // Stops: the end-of-line rule for spaces and tabs dropped, turned around or or-ed: a trailing space is
        // removed by transports (RFC 2045 section 6.7 rule 3), so it must be =20; in the middle it stays as it is.
        Assert.Equal("a=20\r\nb=09", await QuotedPrintableAsync("a \r\nb\t"));
        Assert.Equal("a \tb\r\nc", await QuotedPrintableAsync("a \tb\r\nc"));
    }

    [Fact]
    public async Task Quoted_printable_lines_are_76_characters_with_their_soft_break()
    {
        // Stops: the soft break moved a character either way, or every octet costed three: RFC 2045 allows 76
        // characters, the "=" of a soft break included, and an escape is never split across a break.
        Assert.Equal(new string('a', 75), await QuotedPrintableAsync(new string('a', 75)));
        Assert.Equal(new string('a', 75) + "=\r\na", await QuotedPrintableAsync(new string('a', 76)));
        Assert.Equal(new string('a', 72) + "=3D", await QuotedPrintableAsync(new string('a', 72) + "="));
        Assert.Equal(new string('a', 73) + "=\r\n=3D", await QuotedPrintableAsync(new string('a', 73) + "="));
    }

    // ------------------------------------------------------------------ base64

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(56)]
    [InlineData(57)]
    [InlineData(58)]
    [InlineData(114)]
    [InlineData(115)]
    [InlineData(57 * 216)]
    [InlineData(57 * 216 + 1)]
    [InlineData(100_003)]
    public async Task Base64_lines_are_76_characters_with_no_empty_line_at_a_multiple_of_57_octets(int length)
    {
        // Stops: the last partial line written when there is none (an empty line, or a CRLF, at the end of a body
        // of 57 or 114 octets), and the slices of a resource's bytes or stream misjoined.
        var data = Pattern(length);
        Assert.Equal(Base64Lines(data), await ResourceBodyAsync(Attachment.FromBytes(data, "a.bin")));
        Assert.Equal(Base64Lines(data), await ResourceBodyAsync(Attachment.FromStream(new ForwardOnlyStream(data, maxReadSize: 1000), "a.bin")));

        var text = Encoding.ASCII.GetString(Array.ConvertAll(data, b => (byte)('a' + (b % 26))));
        Assert.Equal(Base64Lines(Encoding.ASCII.GetBytes(text)), Encoding.ASCII.GetString(await TextBodyAsync(text, TransferEncoding.Base64)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(56)]
    [InlineData(57)]
    [InlineData(58)]
    [InlineData(114)]
    [InlineData(57 * 216 + 5)]
    public async Task The_length_counted_without_reading_a_resource_is_the_length_written(int length)
    {
        // Stops: the line count of the unread resource rounded the wrong way: the message size declared to the
        // server (SIZE=, RFC 1870) and the BDAT chunk lengths computed from it would be wrong by a CRLF.
        var resource = Attachment.FromBytes(Pattern(length), "a.bin");
        using var counter = new MemoryStream();
        long counted;
        using (var writer = new MimeWriter(counter, CancellationToken.None, countOnly: true))
        {
            await writer.WriteResourceBodyAsync(resource);
            await writer.FlushAsync();
            counted = writer.UnwrittenLength;
        }

        Assert.Equal(0, counter.Length);
        Assert.Equal((await ResourceBodyAsync(resource)).Length, counted);
    }

    // ------------------------------------------------------------------ text slices

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Text_is_cut_into_slices_between_the_halves_of_a_surrogate_pair_never(int encoding)
    {
        // Stops: a long line cut after its 2048th character whatever it is, or the high surrogate looked for at the
        // wrong index: half a pair is written as U+FFFD and the emoji is lost.
        var transfer = (TransferEncoding)encoding;
        foreach (var text in new[]
        {
            "a" + string.Concat(System.Linq.Enumerable.Repeat("😀", 1500)),
            string.Concat(System.Linq.Enumerable.Repeat("😀", 1500)),
            "a" + string.Concat(System.Linq.Enumerable.Repeat("😀", 1024)) + "bcd" + string.Concat(System.Linq.Enumerable.Repeat("😀", 600)),
        })
        {
            var written = await TextBodyAsync(text, transfer);
            var decoded = transfer switch
            {
                TransferEncoding.QuotedPrintable => DecodeQuotedPrintable(Encoding.ASCII.GetString(written)),
                TransferEncoding.Base64 => Convert.FromBase64String(Encoding.ASCII.GetString(written)),
                _ => written,
            };
            Assert.Equal(Encoding.UTF8.GetBytes(text), decoded);
        }
    }

    [Theory]
    [InlineData("abc\r", "abc\r\n")]
    [InlineData("abc\rdef", "abc\r\ndef")]
    [InlineData("abc\ndef\r\n", "abc\r\ndef\r\n")]
    public async Task Every_kind_of_line_break_becomes_crlf_even_a_last_lone_cr(string text, string expected)
    {
        // Stops: the CRLF test reading past a lone CR at the very end (an IndexOutOfRangeException).
        Assert.Equal(expected, Encoding.ASCII.GetString(await TextBodyAsync(text, TransferEncoding.EightBit)));
    }

    [Fact]
    public async Task A_line_break_at_the_start_of_a_long_rest_is_a_line_break_not_an_escaped_cr_lf()
    {
        // Stops: a line break found at offset 0 of the slice window not taken as the end of the line: the CR LF
        // would be quoted-printable-escaped (=0D=0A) inside a long line instead of ending it.
        var text = "\r\n" + new string('a', 3000);
        var expected = new StringBuilder("\r\n");
        for (var i = 0; i < 3000; i += 75)
        {
            expected.Append(i > 0 ? "=\r\n" : string.Empty).Append('a', Math.Min(75, 3000 - i));
        }

        Assert.Equal(expected.ToString(), await QuotedPrintableAsync(text));
    }

    // ------------------------------------------------------------------ the buffer

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_body_is_written_whole_whatever_the_buffer_already_holds(int encoding)
    {
        // Stops: the pooled buffer not grown (or grown without its content copied) when a slice of text meets its
        // end, or a slice's worst-case size underestimated: an exception, or octets lost, at one offset in 64 KiB.
        // Three-octet characters on long lines are the worst case for 8bit and quoted-printable.
        var transfer = (TransferEncoding)encoding;
        var line = string.Concat(System.Linq.Enumerable.Repeat("日本語", 1100));
        var text = line + "\r\n" + line + "\r\n" + line;
        var expected = Encoding.UTF8.GetBytes(text);
        for (var prefix = 20_000; prefix < 66_000; prefix += 1_777)
        {
            var written = await TextBodyAsync(text, transfer, prefix);
            var decoded = transfer == TransferEncoding.QuotedPrintable ? DecodeQuotedPrintable(Encoding.ASCII.GetString(written)) : written;
            Assert.True(expected.AsSpan().SequenceEqual(decoded), $"after {prefix} octets in the buffer");
        }
    }

    [Fact]
    public async Task Bodies_reach_the_destination_in_writes_of_32_to_64_KiB_and_never_an_empty_one()
    {
        // Stops: the flush after each slice dropped (the whole message held in memory and written at once), made
        // unconditional or turned around (thousands of small writes, a system call each on a socket), and an empty
        // buffer flushed (a zero-length write).
        var text = string.Concat(System.Linq.Enumerable.Repeat(new string('x', 98) + "\r\n", 10_000));
        var data = Pattern(1_000_000);
        foreach (var write in new Func<MimeWriter, ValueTask>[]
        {
            w => w.WriteTextBodyAsync(text, TransferEncoding.EightBit),
            w => w.WriteTextBodyAsync(text, TransferEncoding.QuotedPrintable),
            w => w.WriteResourceBodyAsync(Attachment.FromBytes(data, "a.bin")),
            w => w.WriteResourceBodyAsync(Attachment.FromStream(new ForwardOnlyStream(data), "a.bin")),
        })
        {
            var destination = new WriteRecordingStream();
            using (var writer = new MimeWriter(destination, CancellationToken.None))
            {
                await write(writer);
                await writer.FlushAsync();
                await writer.FlushAsync();
            }

            Assert.True(destination.Writes.Count >= 10, $"{destination.Writes.Count} writes");
            for (var i = 0; i < destination.Writes.Count; i++)
            {
                var size = destination.Writes[i];
                Assert.True(size <= 64 * 1024, $"write {i} of {size} octets");
                Assert.True(size >= 32 * 1024 || i == destination.Writes.Count - 1, $"write {i} of {size} octets");
                Assert.NotEqual(0, size);
            }
        }
    }

    [Fact]
    public async Task A_file_attachment_is_closed_once_written()
    {
        // Stops: the file the writer opened left open: one file descriptor leaked per attachment per delivery.
        var path = Path.Combine(Path.GetTempPath(), $"directmail-writer-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, Pattern(200_000));
        try
        {
            var attachment = Attachment.FromFile(path);
            Assert.Equal(Base64Lines(Pattern(200_000)), await ResourceBodyAsync(attachment));
            Assert.Equal(0, OpenDescriptors(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int OpenDescriptors(string path)
    {
        var count = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == path)
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // Closed while listing.
            }
        }

        return count;
    }
}
