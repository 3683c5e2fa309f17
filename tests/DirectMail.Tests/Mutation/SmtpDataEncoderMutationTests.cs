using System;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The data encoder at the edges Stryker.NET found untested (README, "Mutation testing"): a destination with room for
/// one octet less than the next step needs, the line counter, the 7-bit boundary and the exact error texts.
/// </summary>
public sealed class SmtpDataEncoderMutationTests
{
    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void A_line_end_needs_room_for_two_octets_and_writes_nothing_with_one(string lineEnd)
    {
        // Stops: the room check for CRLF loosened ("< 2" to "< 1" or "<= 2"): a CR without its LF on the wire, or a
        // needless flush when exactly two octets are left.
        var input = Encoding.ASCII.GetBytes("ab" + lineEnd + "c");
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var output = new byte[3];
        Assert.Equal(SmtpEncodeStatus.DestinationTooSmall, encoder.Encode(input, output, out var consumed, out var written));
        Assert.Equal(2, written);
        Assert.Equal(lineEnd == "\n" ? 2 : 3, consumed); // a CR is taken and held until its LF is seen
        Assert.Equal("ab", Text(output.AsSpan(0, written)));

        var output2 = new byte[8];
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode(input.AsSpan(consumed), output2, out var consumed2, out var written2));
        Assert.Equal(input.Length - consumed, consumed2);
        Assert.Equal("\r\nc", Text(output2.AsSpan(0, written2)));
        Assert.Equal(2, encoder.Line);
    }

    [Fact]
    public void Exactly_two_octets_of_room_take_a_line_end()
    {
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var output = new byte[2];
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode("\n"u8, output, out var consumed, out var written));
        Assert.Equal(1, consumed);
        Assert.Equal(2, written);
        Assert.Equal("\r\n", Text(output));
        Assert.Equal(2, encoder.Line);

        var pending = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        Assert.Equal(SmtpEncodeStatus.Done, pending.Encode("\r"u8, output, out consumed, out written));
        Assert.Equal(1, consumed);
        Assert.Equal(0, written);
        Assert.Equal(SmtpEncodeStatus.Done, pending.Encode("\nx"u8, new byte[3], out consumed, out written));
        Assert.Equal(2, consumed);
        Assert.Equal(3, written);
    }

    [Fact]
    public void A_pending_CR_with_one_octet_of_room_waits()
    {
        // Stops: the pending CR's line end written into a destination without room for both octets.
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var output = new byte[8];
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode("a\r"u8, output.AsSpan(0, 1), out var consumed, out var written));
        Assert.Equal((2, 1), (consumed, written));
        Assert.Equal(SmtpEncodeStatus.DestinationTooSmall, encoder.Encode("b"u8, output.AsSpan(1, 1), out consumed, out written));
        Assert.Equal((0, 0), (consumed, written));
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode("b"u8, output.AsSpan(1, 3), out consumed, out written));
        Assert.Equal((1, 3), (consumed, written));
        Assert.Equal("a\r\nb", Text(output.AsSpan(0, 4)));
    }

    [Fact]
    public void A_leading_dot_needs_room_for_both_dots()
    {
        // Stops: the stuffed dot written without room for the original one, which would then start the next buffer
        // alone (still correct) or, with the check gone, write past the end.
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var output = new byte[4];
        Assert.Equal(SmtpEncodeStatus.DestinationTooSmall, encoder.Encode(".x"u8, output.AsSpan(0, 1), out var consumed, out var written));
        Assert.Equal((0, 0), (consumed, written));
        Assert.Equal(SmtpEncodeStatus.DestinationTooSmall, encoder.Encode(".x"u8, output.AsSpan(0, 2), out consumed, out written));
        Assert.Equal((1, 2), (consumed, written));
        Assert.Equal("..", Text(output.AsSpan(0, 2)));
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode("x"u8, output.AsSpan(2, 1), out consumed, out written));
        Assert.Equal("..x", Text(output.AsSpan(0, 3)));
    }

    [Fact]
    public void A_dot_after_the_first_run_of_a_line_is_not_stuffed_even_across_calls()
    {
        // Stops: "at line start" not cleared after a run, so that "a" then ".b" in two writes becomes "a..b".
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var output = new byte[16];
        encoder.Encode("a"u8, output, out _, out var w1);
        encoder.Encode(".b"u8, output.AsSpan(w1), out _, out var w2);
        var end = encoder.Complete(output.AsSpan(w1 + w2));
        Assert.Equal("a.b\r\n.\r\n", Text(output.AsSpan(0, w1 + w2 + end)));
    }

    [Fact]
    public void A_full_destination_stops_a_run_at_the_room_left()
    {
        var encoder = new SmtpDataEncoder(dotStuffing: false, sevenBitOnly: false);
        var output = new byte[3];
        Assert.Equal(SmtpEncodeStatus.DestinationTooSmall, encoder.Encode("abcdef"u8, output, out var consumed, out var written));
        Assert.Equal((3, 3), (consumed, written));
        Assert.Equal(SmtpEncodeStatus.DestinationTooSmall, encoder.Encode("def"u8, Span<byte>.Empty, out consumed, out written));
        Assert.Equal((0, 0), (consumed, written));
    }

    [Fact]
    public void The_line_counter_counts_every_kind_of_line_end()
    {
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        Assert.Equal(1, encoder.Line);
        encoder.Encode("a\r\nb\nc\rd"u8, new byte[64], out _, out _);
        Assert.Equal(4, encoder.Line);
    }

    [Fact]
    public void The_line_length_starts_again_after_each_line_end()
    {
        // Stops: the length not reset at a line end (two lines of 500 octets refused) or reset within a line.
        var input = Encoding.ASCII.GetBytes(new string('a', 998) + "\n" + new string('b', 998) + "\r" + new string('c', 998));
        var encoder = new SmtpDataEncoder(dotStuffing: false, sevenBitOnly: false);
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode(input, new byte[4096], out var consumed, out var written));
        Assert.Equal(input.Length, consumed);
        Assert.Equal(3 * 998 + 4, written);
    }

    [Fact]
    public void The_long_line_error_says_which_line_and_what_to_do()
    {
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var input = Encoding.ASCII.GetBytes("x\ny\n" + new string('a', 999));
        Assert.Equal(SmtpEncodeStatus.InvalidData, encoder.Encode(input, new byte[4096], out var consumed, out var written));
        Assert.Equal(4, consumed);
        Assert.Equal(6, written);
        Assert.Equal(
            "Line 3 of the content is longer than 998 octets (RFC 5322 section 2.1.1); the content must be encoded (quoted-printable or base64) or folded.",
            encoder.Error);
    }

    [Fact]
    public void A_line_of_998_octets_in_pieces_passes_and_one_more_octet_is_refused()
    {
        // Stops: "> 998" turned into ">=" across calls.
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: false);
        var output = new byte[4096];
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode(Encoding.ASCII.GetBytes(new string('a', 997)), output, out _, out var w));
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode("b"u8, output.AsSpan(w), out _, out _));
        Assert.Equal(SmtpEncodeStatus.InvalidData, encoder.Encode("c"u8, output.AsSpan(w + 1), out var consumed, out var written));
        Assert.Equal((0, 0), (consumed, written));
    }

    [Fact]
    public void Seven_bit_content_takes_0x01_to_0x7F_and_refuses_0x80_with_its_value()
    {
        var all = new byte[127];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = (byte)(i + 1);
        }

        // CR and LF are line ends; everything else from 0x01 to 0x7F passes.
        var encoder = new SmtpDataEncoder(dotStuffing: false, sevenBitOnly: true);
        Assert.Equal(SmtpEncodeStatus.Done, encoder.Encode(all, new byte[512], out var consumed, out _));
        Assert.Equal(127, consumed);

        var refused = new SmtpDataEncoder(dotStuffing: false, sevenBitOnly: true);
        Assert.Equal(SmtpEncodeStatus.InvalidData, refused.Encode("ok\nab\u0080"u8, new byte[64], out consumed, out var written));
        Assert.Equal((3, 4), (consumed, written));
        Assert.Equal(
            "Line 2 of the content holds the 8-bit octet 0xC2, but the content was declared 7-bit; declare it 8-bit (the server must offer 8BITMIME) or encode it.",
            refused.Error);

        var eightBit = new SmtpDataEncoder(dotStuffing: false, sevenBitOnly: false);
        Assert.Equal(SmtpEncodeStatus.Done, eightBit.Encode(new byte[] { 0x80, 0xFF, 0x7F, 0x01 }, new byte[8], out consumed, out _));
        Assert.Equal(4, consumed);
        Assert.Null(eightBit.Error);
    }

    [Fact]
    public void The_NUL_error_is_exact_and_nothing_of_the_run_is_written()
    {
        var encoder = new SmtpDataEncoder(dotStuffing: true, sevenBitOnly: true);
        Assert.Equal(SmtpEncodeStatus.InvalidData, encoder.Encode("ab\0c"u8, new byte[16], out var consumed, out var written));
        Assert.Equal((0, 0), (consumed, written));
        Assert.Equal(
            "Line 1 of the content holds a NUL octet, which SMTP cannot carry (RFC 5321 section 4.5.2); encode the part it is in (base64).",
            encoder.Error);
    }

    [Theory]
    [InlineData("", true, ".\r\n")]
    [InlineData("", false, "")]
    [InlineData("a", true, "a\r\n.\r\n")]
    [InlineData("a", false, "a\r\n")]
    [InlineData("a\r", true, "a\r\n.\r\n")]
    [InlineData("a\r", false, "a\r\n")]
    [InlineData("a\n", true, "a\r\n.\r\n")]
    [InlineData("a\n", false, "a\r\n")]
    [InlineData("a\r\r", false, "a\r\n\r\n")]
    public void Complete_ends_the_last_line_once_and_adds_the_terminator_only_for_DATA(string content, bool dotStuffing, string expected)
    {
        var encoder = new SmtpDataEncoder(dotStuffing, sevenBitOnly: false);
        var output = new byte[32];
        encoder.Encode(Encoding.ASCII.GetBytes(content), output, out _, out var written);
        var tail = encoder.Complete(output.AsSpan(written));
        Assert.Equal(expected, Text(output.AsSpan(0, written + tail)));
        Assert.True(tail <= 5);
    }
}
