using System;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Tests.Smtp;

public sealed class SmtpReplyParserTests
{
    private static SmtpReplyParser NewParser() => new(maxLineLength: 4096, maxLines: 256, maxBytes: 64 * 1024);

    private static SmtpReply ParseOne(string raw)
    {
        var parser = NewParser();
        var bytes = Encoding.UTF8.GetBytes(raw);
        var reply = parser.Parse(bytes, out var consumed);
        Assert.NotNull(reply);
        Assert.Equal(bytes.Length, consumed);
        return reply!;
    }

    [Fact]
    public void Single_line_reply_gives_code_and_text()
    {
        var reply = ParseOne("250 mx.example.com at your service\r\n");
        Assert.Equal(250, reply.Code);
        Assert.Equal("mx.example.com at your service", reply.Text);
        Assert.Null(reply.EnhancedStatusCode);
        Assert.True(reply.IsPositiveCompletion);
    }

    [Fact]
    public void Multi_line_greeting_keeps_every_line_in_order()
    {
        var reply = ParseOne("220-mx.google.com ESMTP\r\n220-second line\r\n220 third line\r\n");
        Assert.Equal(220, reply.Code);
        Assert.Equal(new[] { "mx.google.com ESMTP", "second line", "third line" }, reply.Lines);
        Assert.Equal("mx.google.com ESMTP\nsecond line\nthird line", reply.Text);
    }

    [Fact]
    public void Enhanced_status_code_is_parsed_when_its_class_matches_the_code()
    {
        var reply = ParseOne("550-5.7.1 [192.0.2.1] The IP you're using to send mail is not authorized\r\n550 5.7.1 to send email directly to our servers.\r\n");
        Assert.Equal(new EnhancedStatusCode(5, 7, 1), reply.EnhancedStatusCode);
        Assert.Equal(2, reply.Lines.Count);
        Assert.StartsWith("5.7.1 [192.0.2.1]", reply.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Enhanced_status_code_of_another_class_is_not_taken()
    {
        var reply = ParseOne("250 5.1.1 odd\r\n");
        Assert.Null(reply.EnhancedStatusCode);
    }

    [Fact]
    public void Code_without_text_is_a_complete_reply()
    {
        var reply = ParseOne("250\r\n");
        Assert.Equal(250, reply.Code);
        Assert.Equal(string.Empty, reply.Text);
    }

    [Fact]
    public void Bare_LF_line_end_is_tolerated()
    {
        var reply = ParseOne("221 bye\n");
        Assert.Equal("bye", reply.Text);
    }

    [Fact]
    public void Partial_reply_needs_more_bytes_and_consumes_only_complete_lines()
    {
        var parser = NewParser();
        var first = Encoding.ASCII.GetBytes("250-one\r\n250 tw");
        Assert.Null(parser.Parse(first, out var consumed));
        Assert.Equal(9, consumed);
        var reply = parser.Parse("250 two\r\n"u8, out consumed);
        Assert.NotNull(reply);
        Assert.Equal(new[] { "one", "two" }, reply!.Lines);
    }

    [Fact]
    public void Pipelined_replies_are_read_one_at_a_time_in_order()
    {
        var parser = NewParser();
        var bytes = Encoding.ASCII.GetBytes("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <x@y>: unknown\r\n354 go\r\n");
        var offset = 0;
        var codes = new int[4];
        for (var i = 0; i < 4; i++)
        {
            var reply = parser.Parse(bytes.AsSpan(offset), out var consumed);
            offset += consumed;
            codes[i] = reply!.Code;
        }

        Assert.Equal(new[] { 250, 250, 550, 354 }, codes);
        Assert.Equal(bytes.Length, offset);
    }

    [Fact]
    public void Repeated_single_line_reply_is_handed_out_again_without_decoding()
    {
        var parser = NewParser();
        var a = parser.Parse("250 2.1.5 Ok\r\n"u8, out _);
        var b = parser.Parse("250 2.1.5 Ok\r\n"u8, out _);
        var c = parser.Parse("250 2.1.5 Other\r\n"u8, out _);
        Assert.Same(a, b);
        Assert.NotSame(a, c);
        Assert.Equal("2.1.5 Other", c!.Text);
    }

    [Theory]
    [InlineData("hello\r\n")]
    [InlineData("25\r\n")]
    [InlineData("600 too high\r\n")]
    [InlineData("199 too low\r\n")]
    [InlineData("2x0 not digits\r\n")]
    [InlineData("250_wrong separator\r\n")]
    [InlineData("\u0000\u0001\u0002\u00ff\u00fe binary\r\n")]
    public void Line_that_is_not_a_reply_is_a_protocol_error(string raw)
    {
        // Stops: a server (or something that is not an SMTP server) sending garbage being read as a reply.
        var parser = NewParser();
        var exception = Assert.Throws<SmtpProtocolException>(() => parser.Parse(Encoding.Latin1.GetBytes(raw), out _));
        Assert.Equal(raw[3] == '_' ? SmtpProtocolViolation.InvalidSeparator : SmtpProtocolViolation.NotAReply, exception.Violation);
    }

    [Fact]
    public void Multi_line_reply_that_changes_code_is_a_protocol_error()
    {
        var parser = NewParser();
        var exception = Assert.Throws<SmtpProtocolException>(() => parser.Parse("250-one\r\n251 two\r\n"u8, out _));
        Assert.Equal(SmtpProtocolViolation.InconsistentReplyCode, exception.Violation);
    }

    [Fact]
    public void Line_longer_than_the_limit_without_end_is_a_protocol_error_at_the_limit()
    {
        // Stops: a 10 MB line without CRLF growing the client's memory without bound.
        var parser = new SmtpReplyParser(maxLineLength: 1024, maxLines: 10, maxBytes: 4096);
        var line = Encoding.ASCII.GetBytes("250 " + new string('a', 2000));
        Assert.Equal(SmtpProtocolViolation.LineTooLong, Assert.Throws<SmtpProtocolException>(() => parser.Parse(line, out _)).Violation);
        Assert.Null(new SmtpReplyParser(1024, 10, 4096).Parse(line.AsSpan(0, 1023), out _));
    }

    [Fact]
    public void Endless_multi_line_reply_is_a_protocol_error_at_the_line_limit()
    {
        // Stops: a server that sends "250-" lines forever keeping the client reading forever.
        var parser = new SmtpReplyParser(maxLineLength: 1024, maxLines: 10, maxBytes: 64 * 1024);
        var builder = new StringBuilder();
        for (var i = 0; i < 11; i++)
        {
            builder.Append("250-more\r\n");
        }

        var exception = Assert.Throws<SmtpProtocolException>(() => parser.Parse(Encoding.ASCII.GetBytes(builder.ToString()), out _));
        Assert.Contains("more than 10 lines", exception.Message, StringComparison.Ordinal);
        Assert.Equal(SmtpProtocolViolation.TooManyLines, exception.Violation);
    }

    [Fact]
    public void Reply_larger_than_the_byte_limit_is_a_protocol_error()
    {
        var parser = new SmtpReplyParser(maxLineLength: 1024, maxLines: 1000, maxBytes: 2048);
        var builder = new StringBuilder();
        for (var i = 0; i < 10; i++)
        {
            builder.Append("250-").Append('x', 500).Append("\r\n");
        }

        var exception = Assert.Throws<SmtpProtocolException>(() => parser.Parse(Encoding.ASCII.GetBytes(builder.ToString()), out _));
        Assert.Equal(SmtpProtocolViolation.ReplyTooLarge, exception.Violation);
    }

    [Fact]
    public void Control_characters_in_reply_text_are_replaced_so_they_cannot_forge_log_lines()
    {
        var reply = ParseOne("550 bad\u001b[31m\rfake\r\n");
        Assert.DoesNotContain('\u001b', reply.Text);
        Assert.DoesNotContain('\r', reply.Text);
        Assert.Contains("fake", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void UTF8_reply_text_is_decoded()
    {
        var reply = ParseOne("550 5.1.1 <användare@exempel.se> okänd\r\n");
        Assert.Equal("5.1.1 <användare@exempel.se> okänd", reply.Text);
    }

    [Fact]
    public void ToString_gives_the_reply_as_the_server_sent_it()
    {
        var reply = ParseOne("250-mx\r\n250 SIZE 100\r\n");
        Assert.Equal("250-mx\n250 SIZE 100", reply.ToString());
    }
}
