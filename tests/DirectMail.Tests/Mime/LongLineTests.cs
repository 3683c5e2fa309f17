using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using DirectMail.Mime;
using static DirectMail.Tests.Mime.MimeTestSupport;

namespace DirectMail.Tests.Mime;

/// <summary>
/// Text bodies with long lines. The writer cuts a line into slices of 2048 characters and used to look for the end of
/// the line in the whole rest of the text before each slice: one 16 MB line took 12.5 s of CPU (50 MB: 100 s). It now
/// looks only within the next slice, which makes the work linear; these tests hold the slicing to exact output at
/// every slice edge (line ends just before, at and after it, a surrogate pair across it) and for multi-megabyte lines.
/// Measured (2 shared cores, content + length + write of a 16 MB single line): 28 s before, 0.2 s after.
/// </summary>
public class LongLineTests
{
    private const int Slice = 2048; // MimeWriter.TextSliceChars

    public static IEnumerable<object[]> SliceEdges()
    {
        foreach (var length in new[] { Slice - 1, Slice, Slice + 1, (2 * Slice) - 1, 2 * Slice, (2 * Slice) + 1, (3 * Slice) + 7 })
        {
            foreach (var lineEnd in new[] { string.Empty, "\n", "\r", "\r\n" })
            {
                yield return new object[] { length, lineEnd };
            }
        }
    }

    [Theory]
    [MemberData(nameof(SliceEdges))]
    public void Ascii_lines_at_slice_edges_read_back_exactly_in_quoted_printable(int length, string lineEnd)
    {
        var line = Line(length, i => i % 10 == 9 ? ' ' : (char)('a' + (i % 26)));
        var text = line + lineEnd + "next line";
        AssertExact(text, "quoted-printable");
    }

    [Theory]
    [MemberData(nameof(SliceEdges))]
    public void Chinese_lines_at_slice_edges_read_back_exactly_in_base64(int length, string lineEnd)
    {
        var line = Line(length, i => (char)(0x4E00 + (i % 500)));
        AssertExact(line + lineEnd + "下一行", "base64");
    }

    [Theory]
    [InlineData(Slice - 1)] // the pair would straddle the first slice edge
    [InlineData(Slice - 2)]
    [InlineData(Slice)]
    [InlineData((2 * Slice) - 1)]
    public void A_surrogate_pair_at_a_slice_edge_is_never_split(int position)
    {
        // Mostly ASCII, so quoted-printable with escapes; an emoji (two UTF-16 units) at the edge of a slice.
        var builder = new StringBuilder(Line(3 * Slice, i => (char)('a' + (i % 26))));
        builder.Insert(position, "😀");
        builder.Insert(10, "😀");
        AssertExact(builder.ToString(), "quoted-printable");
    }

    [Fact]
    public void A_16_MB_single_line_reads_back_exactly()
    {
        // The case: 16 MB of text without a line break.
        var text = Line(16 * 1024 * 1024, i => i % 1000 == 999 ? ' ' : (char)('A' + (i % 26)));
        AssertExact(text, "quoted-printable");
    }

    [Fact]
    public void A_4_MB_single_line_of_Chinese_with_short_lines_after_it_reads_back_exactly()
    {
        var text = Line(4 * 1024 * 1024, i => (char)(0x4E00 + (i % 20000))) + "\n短\n\n行";
        AssertExact(text, "base64");
    }

    private static string Line(int length, Func<int, char> at) => string.Create(length, at, static (span, f) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = f(i);
        }
    });

    /// <summary>Writes <paramref name="text"/> as a message for both kinds of server and decodes the body by hand.</summary>
    private static void AssertExact(string text, string expectedEncoding)
    {
        var crlf = text.ReplaceLineEndings("\r\n");
        var expected = Encoding.UTF8.GetBytes(crlf);
        foreach (var eightBit in new[] { false, true })
        {
            var message = new EmailMessage { From = new EmailAddress("from@example.com"), Subject = "Long line", TextBody = text };
            message.To.Add("to@example.com");
            var bytes = Write(message, Capabilities(eightBit)); // also checks CRLF only and no line over 998 octets
            var split = IndexOf(bytes, "\r\n\r\n"u8) + 4;
            var headers = Encoding.ASCII.GetString(bytes, 0, split);
            Assert.Contains("\r\nContent-Transfer-Encoding: " + expectedEncoding + "\r\n", headers, StringComparison.Ordinal);
            var body = bytes.AsSpan(split);
            if (expectedEncoding == "base64")
            {
                Assert.Equal(expected, DecodeBase64(body));
            }
            else
            {
                // The message's final CRLF ends the last line of a single-part body.
                Assert.Equal(Encoding.UTF8.GetBytes(crlf + "\r\n"), DecodeQuotedPrintable(body));
            }
        }
    }

    private static int IndexOf(byte[] bytes, ReadOnlySpan<byte> value) => bytes.AsSpan().IndexOf(value);

    private static byte[] DecodeBase64(ReadOnlySpan<byte> body)
    {
        var text = new StringBuilder(body.Length);
        foreach (var line in Encoding.ASCII.GetString(body).Split("\r\n"))
        {
            Assert.True(line.Length <= 76, $"A base64 line of {line.Length} characters.");
            text.Append(line);
        }

        return Convert.FromBase64String(text.ToString());
    }

    private static byte[] DecodeQuotedPrintable(ReadOnlySpan<byte> body)
    {
        var output = new MemoryStream(body.Length);
        var start = 0;
        while (start < body.Length)
        {
            var end = body[start..].IndexOf("\r\n"u8);
            Assert.True(end >= 0, "Every line ends with CRLF.");
            var line = body.Slice(start, end);
            Assert.True(line.Length <= 76, $"A quoted-printable line of {line.Length} characters.");
            var soft = line.Length > 0 && line[^1] == '=';
            if (soft)
            {
                line = line[..^1];
            }
            else if (line.Length > 0)
            {
                Assert.False(line[^1] is (byte)' ' or (byte)'\t', "Whitespace at the end of a line is escaped.");
            }

            for (var i = 0; i < line.Length; i++)
            {
                if (line[i] == '=')
                {
                    output.WriteByte(Convert.FromHexString(Encoding.ASCII.GetString(line.Slice(i + 1, 2)))[0]);
                    i += 2;
                }
                else
                {
                    Assert.True(line[i] is >= 32 and < 127 or (byte)'\t', $"Octet {line[i]} unencoded.");
                    output.WriteByte(line[i]);
                }
            }

            if (!soft)
            {
                output.Write("\r\n"u8);
            }

            start += end + 2;
        }

        return output.ToArray();
    }
}
