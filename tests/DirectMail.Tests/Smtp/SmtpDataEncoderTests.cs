using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

public sealed class SmtpDataEncoderTests
{
    /// <summary>Encodes in one call with ample room, then completes.</summary>
    private static byte[] Encode(byte[] input, bool dotStuffing = true, bool sevenBitOnly = false)
    {
        var encoder = new SmtpDataEncoder(dotStuffing, sevenBitOnly);
        var output = new byte[(input.Length * 2) + 16];
        var status = encoder.Encode(input, output, out var consumed, out var written);
        Assert.Equal(SmtpEncodeStatus.Done, status);
        Assert.Equal(input.Length, consumed);
        written += encoder.Complete(output.AsSpan(written));
        return output.AsSpan(0, written).ToArray();
    }

    /// <summary>Encodes with the input cut into random pieces and a random small output buffer, flushing as a session does.</summary>
    private static byte[] EncodeInPieces(byte[] input, Random random, bool dotStuffing = true)
    {
        var encoder = new SmtpDataEncoder(dotStuffing, sevenBitOnly: false);
        var result = new MemoryStream();
        var buffer = new byte[random.Next(8, 64)];
        var used = 0;
        var offset = 0;
        while (offset < input.Length)
        {
            var piece = input.AsSpan(offset, Math.Min(random.Next(1, 40), input.Length - offset));
            while (!piece.IsEmpty)
            {
                var status = encoder.Encode(piece, buffer.AsSpan(used), out var consumed, out var written);
                used += written;
                piece = piece[consumed..];
                offset += consumed;
                if (status == SmtpEncodeStatus.DestinationTooSmall)
                {
                    result.Write(buffer, 0, used);
                    used = 0;
                }
            }
        }

        result.Write(buffer, 0, used);
        var tail = new byte[8];
        result.Write(tail, 0, encoder.Complete(tail));
        return result.ToArray();
    }

    /// <summary>The reference: every CRLF, CR or LF becomes CRLF, and the content ends with CRLF.</summary>
    private static byte[] Normalize(byte[] input)
    {
        var output = new List<byte>();
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] == '\r')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                if (i + 1 < input.Length && input[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (input[i] == '\n')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
            }
            else
            {
                output.Add(input[i]);
            }
        }

        if (output.Count > 0 && output[^1] != '\n')
        {
            output.Add((byte)'\r');
            output.Add((byte)'\n');
        }

        return output.ToArray();
    }

    private static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    [Fact]
    public void CRLF_content_passes_unchanged_and_gets_the_terminator()
    {
        Assert.Equal("Subject: hi\r\n\r\nbody\r\n.\r\n", Text(Encode("Subject: hi\r\n\r\nbody\r\n"u8.ToArray())));
    }

    [Fact]
    public void Bare_LF_and_bare_CR_become_CRLF()
    {
        Assert.Equal("a\r\nb\r\nc\r\nd\r\n.\r\n", Text(Encode("a\nb\rc\r\nd"u8.ToArray())));
    }

    [Fact]
    public void Leading_dots_are_doubled()
    {
        Assert.Equal("..hidden\r\nx\r\n...\r\n.\r\n", Text(Encode(".hidden\r\nx\r\n..\r\n"u8.ToArray())));
    }

    [Fact]
    public void Dot_inside_a_line_is_not_doubled()
    {
        Assert.Equal("a.b\r\n.\r\n", Text(Encode("a.b"u8.ToArray())));
    }

    [Theory]
    [InlineData("x\n.\ny")]          // <LF>.<LF>
    [InlineData("x\r.\ry")]          // <CR>.<CR>
    [InlineData("x\n.\r\ny")]        // <LF>.<CR><LF>
    [InlineData("x\r\n.\ny")]        // <CR><LF>.<LF>
    [InlineData("x\r\n.\r\ny")]      // the real terminator inside content
    [InlineData(".\r\n")]            // a lone dot as the first line
    public void Smuggling_sequences_cannot_end_the_data_early(string content)
    {
        // Stops: SMTP smuggling, where a receiver reads a second, forged message after an early end of data.
        var wire = Text(Encode(Encoding.Latin1.GetBytes(content)));
        Assert.Equal(wire.Length - 5, wire.IndexOf("\r\n.\r\n", StringComparison.Ordinal));
        Assert.Contains("..", wire, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_content_is_just_the_terminator()
    {
        Assert.Equal(".\r\n", Text(Encode([])));
    }

    [Fact]
    public void Without_dot_stuffing_for_BDAT_lines_are_normalised_and_no_terminator_is_added()
    {
        Assert.Equal(".a\r\nb\r\n", Text(Encode(".a\nb"u8.ToArray(), dotStuffing: false)));
    }

    [Fact]
    public void Line_of_998_octets_passes_and_999_is_refused()
    {
        var ok = Encoding.ASCII.GetBytes(new string('a', 998) + "\r\n");
        Assert.Equal(998 + 2 + 3, Encode(ok).Length);

        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var tooLong = Encoding.ASCII.GetBytes("ok\r\n" + new string('a', 999) + "\r\n");
        var status = encoder.Encode(tooLong, new byte[4096], out _, out _);
        Assert.Equal(SmtpEncodeStatus.InvalidData, status);
        Assert.Contains("Line 2", encoder.Error, StringComparison.Ordinal);
        Assert.Contains("998", encoder.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_line_split_over_many_writes_is_still_refused()
    {
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var part = Encoding.ASCII.GetBytes(new string('a', 500));
        var output = new byte[4096];
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode(part, output, out _, out var w1));
        Assert.Equal(SmtpEncodeStatus.InvalidData, encoder.Encode(part, output.AsSpan(w1), out _, out _));
    }

    [Fact]
    public void Eight_bit_octet_in_content_declared_seven_bit_is_refused()
    {
        // Stops: 8-bit content reaching a server that was told (or can only take) 7-bit.
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: true);
        var status = encoder.Encode("Subject: x\r\n\r\nK\u00f6ln\r\n"u8, new byte[256], out _, out _);
        Assert.Equal(SmtpEncodeStatus.InvalidData, status);
        Assert.Contains("0xC3", encoder.Error, StringComparison.Ordinal);
        Assert.Contains("Line 3", encoder.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Nul_octet_is_refused_in_8bit_and_7bit_content()
    {
        // Stops: "\r\n\0.\r\n" reaching the wire; RFC 5321 section 4.5.2 and RFC 6152 allow no NUL, even with 8BITMIME.
        foreach (var sevenBit in new[] { false, true })
        {
            var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: sevenBit);
            var status = encoder.Encode("Subject: x\r\n\r\nbody\r\n\0.\r\n"u8, new byte[256], out _, out var written);
            Assert.Equal(SmtpEncodeStatus.InvalidData, status);
            Assert.Contains("NUL", encoder.Error, StringComparison.Ordinal);
            Assert.Contains("Line 4", encoder.Error, StringComparison.Ordinal);
            Assert.True(written <= 22, "octets after the NUL were encoded");
        }
    }

    [Fact]
    public void Random_inputs_unstuff_to_the_normalised_input_and_never_end_early()
    {
        // Property over 3,000 random inputs rich in CR, LF and dots: what a server reads back after removing the
        // dot-stuffing is exactly the normalised input, and the only end-of-data sequence is the last one.
        var random = new Random(20261126);
        byte[] alphabet = [(byte)'\r', (byte)'\n', (byte)'.', (byte)'a', (byte)' ', 0x01, 0xC3, 0xA9, (byte)'\t']; // NUL is refused: see below
        for (var round = 0; round < 3000; round++)
        {
            var input = new byte[random.Next(0, 200)];
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = alphabet[random.Next(alphabet.Length)];
            }

            var wire = Encode(input);
            var wireText = Text(wire);
            Assert.EndsWith(".\r\n", wireText, StringComparison.Ordinal);
            var end = wireText.IndexOf("\r\n.\r\n", StringComparison.Ordinal);
            Assert.True(end < 0 || end == wire.Length - 5, $"early terminator for input {Convert.ToHexString(input)}");
            Assert.False(wire.Length > 3 && wireText.StartsWith(".\r\n", StringComparison.Ordinal), $"early terminator at the start for {Convert.ToHexString(input)}");

            // No bare CR or LF on the wire.
            for (var i = 0; i < wire.Length; i++)
            {
                if (wire[i] == '\r')
                {
                    Assert.True(i + 1 < wire.Length && wire[i + 1] == '\n', $"bare CR in output for {Convert.ToHexString(input)}");
                }
                else if (wire[i] == '\n')
                {
                    Assert.True(i > 0 && wire[i - 1] == '\r', $"bare LF in output for {Convert.ToHexString(input)}");
                }
            }

            var body = wire.AsSpan(0, wire.Length - 3).ToArray();
            Assert.Equal(Normalize(input), SmtpDialogue.Unstuff(body));

            // The same output whatever the sizes of writes and of the buffer.
            Assert.Equal(wire, EncodeInPieces(input, random));
        }
    }
}
