using System;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The reply parser's limits and rules at their exact boundaries: tests added for the mutants Stryker.NET left alive
/// (README, "Mutation testing"). Each limit is checked one octet (one line) below, at, and above it, so that an
/// off-by-one in a comparison is caught.
/// </summary>
public sealed class SmtpReplyParserMutationTests
{
    private static SmtpProtocolException Refused(SmtpReplyParser parser, string raw) =>
        Assert.Throws<SmtpProtocolException>(() => parser.Parse(Encoding.Latin1.GetBytes(raw), out _));

    [Fact]
    public void A_line_of_exactly_the_limit_with_its_CRLF_is_read_and_one_octet_more_is_refused()
    {
        // Stops: "lineWithEnd > max" turned into ">=" (refusing a legal line) or the check dropped (no bound).
        var atLimit = "250 " + new string('a', 32 - 6) + "\r\n"; // 32 octets with CRLF
        Assert.Equal(32, atLimit.Length);
        var reply = new SmtpReplyParser(maxLineLength: 32, maxLines: 4, maxBytes: 1024).Parse(Encoding.ASCII.GetBytes(atLimit), out var consumed);
        Assert.NotNull(reply);
        Assert.Equal(32, consumed);
        Assert.Equal(new string('a', 26), reply!.Text);

        var over = "250 " + new string('a', 32 - 5) + "\r\n";
        var exception = Refused(new SmtpReplyParser(32, 4, 1024), over);
        Assert.Equal(SmtpProtocolViolation.LineTooLong, exception.Violation);
        Assert.Equal("A reply line is longer than 32 octets.", exception.Message);
    }

    [Fact]
    public void An_unterminated_line_is_refused_when_it_reaches_the_limit_and_waited_for_below_it()
    {
        // Stops: ">=" turned into ">" (one octet more buffered than the limit) or the check dropped.
        var parser = new SmtpReplyParser(maxLineLength: 16, maxLines: 4, maxBytes: 1024);
        Assert.Null(parser.Parse(Encoding.ASCII.GetBytes(new string('2', 15)), out var consumed));
        Assert.Equal(0, consumed);
        var exception = Refused(parser, new string('2', 16));
        Assert.Equal(SmtpProtocolViolation.LineTooLong, exception.Violation);
        Assert.Equal("A reply line is longer than 16 octets without an end of line.", exception.Message);
    }

    [Fact]
    public void A_reply_of_exactly_the_byte_limit_is_read_and_one_octet_more_is_refused()
    {
        // Stops: "_bytes > max" turned into ">=", or the byte count not kept across lines.
        var reply = "250-abc\r\n250 defg\r\n"; // 9 + 10 octets
        var atLimit = new SmtpReplyParser(maxLineLength: 100, maxLines: 10, maxBytes: 19).Parse(Encoding.ASCII.GetBytes(reply), out var consumed);
        Assert.Equal(19, consumed);
        Assert.Equal(new[] { "abc", "defg" }, atLimit!.Lines);

        var exception = Refused(new SmtpReplyParser(100, 10, 18), reply);
        Assert.Equal(SmtpProtocolViolation.ReplyTooLarge, exception.Violation);
        Assert.Equal("A reply is larger than 18 octets.", exception.Message);
    }

    [Fact]
    public void The_byte_count_starts_again_with_each_reply()
    {
        // Stops: the count not reset after a complete reply, so that a long session of small replies ends in
        // ReplyTooLarge.
        var parser = new SmtpReplyParser(maxLineLength: 100, maxLines: 10, maxBytes: 30); // each reply fits, two do not
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("2.0.0 Ok queued", parser.Parse("250-2.0.0 Ok queued\r\n250 x\r\n"u8, out _)!.Lines[0]);
            Assert.Equal("2.1.0 Ok", parser.Parse("250 2.1.0 Ok\r\n"u8, out _)!.Text);
        }
    }

    [Fact]
    public void A_reply_of_exactly_the_line_limit_is_read_and_one_line_more_is_refused()
    {
        // Stops: "_lines.Count == max" turned into another comparison: a reply of maxLines lines is legal.
        var builder = new StringBuilder();
        for (var i = 0; i < 3; i++)
        {
            builder.Append("250-line").Append(i).Append("\r\n");
        }

        var three = builder.ToString() + "250 last\r\n";
        var reply = new SmtpReplyParser(maxLineLength: 100, maxLines: 4, maxBytes: 1024).Parse(Encoding.ASCII.GetBytes(three), out _);
        Assert.Equal(new[] { "line0", "line1", "line2", "last" }, reply!.Lines);

        var exception = Refused(new SmtpReplyParser(100, 3, 1024), three);
        Assert.Equal(SmtpProtocolViolation.TooManyLines, exception.Violation);
        Assert.Equal("A reply has more than 3 lines.", exception.Message);
    }

    [Theory]
    [InlineData("200 a", 200)]
    [InlineData("259 a", 259)]
    [InlineData("550 a", 550)]
    [InlineData("559 a", 559)]
    [InlineData("500 a", 500)]
    [InlineData("354 a", 354)]
    public void Codes_at_the_edges_of_the_grammar_are_read_with_their_value(string line, int code)
    {
        // Stops: a bound of the digit checks moved inward, or the code computed from the wrong digits.
        var reply = new SmtpReplyParser(100, 4, 1024).Parse(Encoding.ASCII.GetBytes(line + "\r\n"), out _);
        Assert.Equal(code, reply!.Code);
        Assert.Equal("a", reply.Text);
    }

    [Theory]
    [InlineData("160 a")]
    [InlineData("660 a")]
    [InlineData("260 a")]
    [InlineData("2/0 a")]
    [InlineData("25: a")]
    [InlineData("25/ a")]
    [InlineData("")]
    public void Codes_just_outside_the_grammar_are_not_replies(string line)
    {
        // Stops: a bound of the digit checks moved outward ("6xx", a second digit over 5, a non-digit third).
        var exception = Refused(new SmtpReplyParser(100, 4, 1024), line + "\r\n");
        Assert.Equal(SmtpProtocolViolation.NotAReply, exception.Violation);
        Assert.StartsWith("The server sent a line that is not an SMTP reply: \"", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_line_that_is_not_a_reply_is_quoted_printably_and_cut_at_64_octets()
    {
        // Stops: raw control octets from the server reaching the log through the exception message, or an
        // unbounded message.
        var raw = "\u0001bc" + new string('x', 70) + "\u007f";
        var exception = Refused(new SmtpReplyParser(1000, 4, 4096), raw + "\r\n");
        Assert.Equal($"The server sent a line that is not an SMTP reply: \"?bc{new string('x', 61)}...\".", exception.Message);

        var shortLine = Refused(new SmtpReplyParser(1000, 4, 4096), "hi\u007f\u001f~ \r\n");
        Assert.Equal("The server sent a line that is not an SMTP reply: \"hi??~ \".", shortLine.Message);

        var exactly64 = Refused(new SmtpReplyParser(1000, 4, 4096), "x" + new string('y', 63) + "\r\n");
        Assert.Equal($"The server sent a line that is not an SMTP reply: \"x{new string('y', 63)}\".", exactly64.Message);
    }

    [Fact]
    public void A_wrong_separator_is_named_in_the_message()
    {
        var exception = Refused(new SmtpReplyParser(100, 4, 1024), "250=x\r\n");
        Assert.Equal(SmtpProtocolViolation.InvalidSeparator, exception.Violation);
        Assert.Equal("The server sent a reply line whose code is followed by neither a space nor a hyphen: \"250=x\".", exception.Message);
    }

    [Fact]
    public void A_changed_code_is_named_and_the_parser_is_usable_afterwards()
    {
        // Stops: the partly read reply kept after the error, so that the next reply is glued to the old lines.
        var parser = new SmtpReplyParser(100, 10, 1024);
        var exception = Refused(parser, "250-one\r\n251 two\r\n");
        Assert.Equal("A multi-line reply changed its code from 250 to 251.", exception.Message);
        var next = parser.Parse("421-a\r\n421 b\r\n"u8, out _);
        Assert.Equal(421, next!.Code);
        Assert.Equal(new[] { "a", "b" }, next.Lines);
    }

    [Theory]
    [InlineData(10, 18)] // too large
    [InlineData(2, 1024)] // too many lines
    public void After_a_limit_is_broken_the_next_reply_starts_afresh(int maxLines, int maxBytes)
    {
        // Stops: Reset() dropped on the error paths: the byte count or lines of the refused reply carried over.
        var parser = new SmtpReplyParser(maxLineLength: 100, maxLines: maxLines, maxBytes: maxBytes);
        Assert.Throws<SmtpProtocolException>(() => parser.Parse("250-abcdefgh\r\n250-ijklmnop\r\n250 q\r\n"u8, out _));
        var next = parser.Parse("250-x\r\n250 y\r\n"u8, out var consumed);
        Assert.Equal(14, consumed);
        Assert.Equal(new[] { "x", "y" }, next!.Lines);
    }

    [Fact]
    public void Reset_forgets_a_partly_read_reply()
    {
        // Stops: lines read before TLS (or another reset) being prefixed to the first reply after it.
        var parser = new SmtpReplyParser(100, 10, 1024);
        Assert.Null(parser.Parse("250-old\r\n"u8, out var consumed));
        Assert.Equal(9, consumed);
        parser.Reset();
        var reply = parser.Parse("220 new\r\n"u8, out _);
        Assert.Equal(220, reply!.Code);
        Assert.Equal(new[] { "new" }, reply.Lines);
    }

    [Fact]
    public void A_multi_line_reply_takes_its_enhanced_code_from_the_first_line_when_the_class_matches()
    {
        var reply = new SmtpReplyParser(100, 10, 1024).Parse("550-5.7.1 refused\r\n550 4.0.0 later\r\n"u8, out _);
        Assert.Equal(new EnhancedStatusCode(5, 7, 1), reply!.EnhancedStatusCode);

        var mismatch = new SmtpReplyParser(100, 10, 1024).Parse("550-4.7.1 refused\r\n550 5.0.0 x\r\n"u8, out _);
        Assert.Null(mismatch!.EnhancedStatusCode);

        var single = new SmtpReplyParser(100, 10, 1024).Parse("451 5.7.1 x\r\n"u8, out _);
        Assert.Null(single!.EnhancedStatusCode);
    }

    [Fact]
    public void A_code_alone_and_a_code_with_a_space_alone_have_empty_text()
    {
        var parser = new SmtpReplyParser(100, 10, 1024);
        Assert.Equal(string.Empty, parser.Parse("250\r\n"u8, out _)!.Text);
        Assert.Equal(string.Empty, parser.Parse("250 \r\n"u8, out _)!.Text);
        Assert.Equal(new[] { string.Empty, "x" }, parser.Parse("250-\r\n250 x\r\n"u8, out _)!.Lines);
        Assert.Equal(new[] { "x", string.Empty }, parser.Parse("250-x\r\n250\r\n"u8, out _)!.Lines);
    }

    [Fact]
    public void A_CR_inside_a_line_stays_text_and_only_the_CR_before_LF_ends_it()
    {
        // Stops: the line end taken as "\r" anywhere, or the CR before LF kept in the text.
        var parser = new SmtpReplyParser(100, 10, 1024);
        Assert.Equal("a\uFFFDb", parser.Parse("250 a\rb\r\n"u8, out _)!.Text);
        Assert.Equal("ab", parser.Parse("250 ab\n"u8, out _)!.Text);
        Assert.Equal("\uFFFD", parser.Parse("250 \r\r\n"u8, out _)!.Text);
    }

    [Fact]
    public void Tab_is_kept_and_DEL_and_other_controls_are_replaced_one_for_one()
    {
        // Stops: TAB replaced (it is legal text), DEL kept (it is not), or replacement changing the length.
        var parser = new SmtpReplyParser(100, 10, 1024);
        Assert.Equal("a\tb", parser.Parse("250 a\tb\r\n"u8, out _)!.Text);
        Assert.Equal("a\uFFFDb\uFFFD\uFFFD c", parser.Parse("250 a\u007fb\u0000\u001f c\r\n"u8, out _)!.Text);
        Assert.Equal(new[] { "x\uFFFD", "\tz\uFFFD" }, parser.Parse("250-x\u0001\r\n250 \tz\u007f\r\n"u8, out _)!.Lines);
        Assert.Equal(" ~", parser.Parse("250  ~\r\n"u8, out _)!.Text);
    }

    [Fact]
    public void The_cache_holds_eight_replies_and_forgets_the_oldest()
    {
        // Stops: the cache index not advancing (every reply overwriting one slot) or a slot never reused.
        var parser = new SmtpReplyParser(100, 10, 1024);
        var first = new SmtpReply[9];
        for (var i = 0; i < 9; i++)
        {
            first[i] = parser.Parse(Encoding.ASCII.GetBytes($"250 reply {i}\r\n"), out _)!;
            Assert.Equal($"reply {i}", first[i].Text);
        }

        // Reply 0 was pushed out by reply 8; replies 2 to 8 are still there.
        var again0 = parser.Parse("250 reply 0\r\n"u8, out _)!;
        Assert.NotSame(first[0], again0);
        Assert.Equal("reply 0", again0.Text);
        for (var i = 2; i < 9; i++)
        {
            Assert.Same(first[i], parser.Parse(Encoding.ASCII.GetBytes($"250 reply {i}\r\n"), out _));
        }
    }

    [Fact]
    public void The_cache_compares_the_whole_line_code_included()
    {
        var parser = new SmtpReplyParser(100, 10, 1024);
        var ok = parser.Parse("250 Ok\r\n"u8, out _)!;
        var other = parser.Parse("251 Ok\r\n"u8, out _)!;
        Assert.Equal(251, other.Code);
        Assert.NotSame(ok, other);
        Assert.Same(ok, parser.Parse("250 Ok\n"u8, out _));
    }

    [Fact]
    public void Two_replies_in_one_buffer_are_consumed_one_at_a_time()
    {
        var parser = new SmtpReplyParser(100, 10, 1024);
        var bytes = "250-a\r\n250 b\r\n354 go\r\n"u8.ToArray();
        var first = parser.Parse(bytes, out var consumed);
        Assert.Equal(14, consumed);
        Assert.Equal(new[] { "a", "b" }, first!.Lines);
        var second = parser.Parse(bytes.AsSpan(consumed), out var consumed2);
        Assert.Equal(8, consumed2);
        Assert.Equal(354, second!.Code);
        Assert.Null(parser.Parse(ReadOnlySpan<byte>.Empty, out var none));
        Assert.Equal(0, none);
    }

    [Fact]
    public void A_bare_line_feed_is_a_malformed_line_not_a_partial_one()
    {
        // Stops: "newline < 0" turned into "<= 0", which would wait for more bytes after an empty line instead of
        // refusing it.
        var exception = Refused(new SmtpReplyParser(512, 4, 1024), "\n250 ok\r\n");
        Assert.NotNull(exception.Message);
    }

    [Fact]
    public void A_DEL_at_the_start_of_the_text_is_replaced_like_one_further_in()
    {
        // Stops: the fast path ("no control character") taken when DEL is the text's first character.
        var parser = new SmtpReplyParser(512, 4, 1024);
        var first = parser.Parse(Encoding.Latin1.GetBytes("250 \u007fok\r\n"), out _);
        var later = parser.Parse(Encoding.Latin1.GetBytes("250 o\u007fk\r\n"), out _);

        Assert.Equal("\uFFFDok", first!.Text);
        Assert.Equal("o\uFFFDk", later!.Text);
    }
}
