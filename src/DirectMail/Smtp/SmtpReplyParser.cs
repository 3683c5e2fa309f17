using System;
using System.Collections.Generic;
using System.Text;

namespace DirectMail.Smtp;

/// <summary>
/// Reads SMTP replies (RFC 5321 section 4.2) straight from received bytes, line by line, within hard limits on
/// line length, line count and reply size, so that a broken or hostile server ends in a protocol error instead of
/// unbounded memory or a hang. Allocates only the text it hands out; a single-line reply identical to a recent one
/// (the "250 2.1.5 Ok" of every transaction) is handed out again instead of being decoded anew.
/// </summary>
internal sealed class SmtpReplyParser
{
    private const int CacheSize = 8;

    private readonly int _maxLineLength;
    private readonly int _maxLines;
    private readonly int _maxBytes;
    private readonly List<string> _lines = new();
    private readonly byte[][] _cacheKeys = new byte[CacheSize][];
    private readonly SmtpReply?[] _cacheReplies = new SmtpReply?[CacheSize];
    private int _cacheNext;
    private int _code;
    private int _bytes;

    public SmtpReplyParser(int maxLineLength, int maxLines, int maxBytes)
    {
        _maxLineLength = maxLineLength;
        _maxLines = maxLines;
        _maxBytes = maxBytes;
    }

    /// <summary>
    /// Consumes complete lines from <paramref name="buffer"/> until a reply is complete, more bytes are needed, or
    /// the input is not an SMTP reply.
    /// </summary>
    /// <returns>The reply when its last line was read; null when more bytes are needed.</returns>
    /// <exception cref="SmtpProtocolException">The bytes are not a valid reply or break a limit.</exception>
    public SmtpReply? Parse(ReadOnlySpan<byte> buffer, out int consumed)
    {
        consumed = 0;
        while (true)
        {
            var remaining = buffer[consumed..];
            var newline = remaining.IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (remaining.Length >= _maxLineLength)
                {
                    throw new SmtpProtocolException(SmtpProtocolViolation.LineTooLong, $"A reply line is longer than {_maxLineLength} octets without an end of line.");
                }

                return null;
            }

            var lineWithEnd = newline + 1;
            if (lineWithEnd > _maxLineLength)
            {
                throw new SmtpProtocolException(SmtpProtocolViolation.LineTooLong, $"A reply line is longer than {_maxLineLength} octets.");
            }

            // CRLF ends a line (RFC 5321 section 2.3.8); a bare LF is tolerated, as most clients do.
            var line = remaining[..(newline > 0 && remaining[newline - 1] == '\r' ? newline - 1 : newline)];
            consumed += lineWithEnd;
            _bytes += lineWithEnd;
            if (_bytes > _maxBytes)
            {
                Reset();
                throw new SmtpProtocolException(SmtpProtocolViolation.ReplyTooLarge, $"A reply is larger than {_maxBytes} octets.");
            }

            var code = ParseCode(line, out var isLast);
            if (_lines.Count == 0)
            {
                _code = code;
            }
            else if (code != _code)
            {
                var first = _code;
                Reset();
                throw new SmtpProtocolException(SmtpProtocolViolation.InconsistentReplyCode, $"A multi-line reply changed its code from {first} to {code}.");
            }

            var text = line.Length > 4 ? line[4..] : default;
            if (isLast && _lines.Count == 0)
            {
                var reply = FromCacheOrNew(code, line, text);
                Reset();
                return reply;
            }

            if (_lines.Count == _maxLines)
            {
                Reset();
                throw new SmtpProtocolException(SmtpProtocolViolation.TooManyLines, $"A reply has more than {_maxLines} lines.");
            }

            _lines.Add(Decode(text));
            if (isLast)
            {
                var lines = _lines.ToArray();
                var reply = new SmtpReply(code, lines, ParseEnhancedStatusCode(code, lines[0]));
                Reset();
                return reply;
            }
        }
    }

    /// <summary>Forgets a partly read reply (after the connection was replaced, for example by TLS).</summary>
    public void Reset()
    {
        _lines.Clear();
        _bytes = 0;
        _code = 0;
    }

    private static int ParseCode(ReadOnlySpan<byte> line, out bool isLast)
    {
        // Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
        if (line.Length < 3
            || line[0] is < (byte)'2' or > (byte)'5'
            || line[1] is < (byte)'0' or > (byte)'5'
            || line[2] is < (byte)'0' or > (byte)'9')
        {
            throw new SmtpProtocolException(SmtpProtocolViolation.NotAReply, $"The server sent a line that is not an SMTP reply: \"{Printable(line)}\".");
        }

        if (line.Length == 3)
        {
            isLast = true;
        }
        else if (line[3] == (byte)' ')
        {
            isLast = true;
        }
        else if (line[3] == (byte)'-')
        {
            isLast = false;
        }
        else
        {
            throw new SmtpProtocolException(SmtpProtocolViolation.InvalidSeparator, $"The server sent a reply line whose code is followed by neither a space nor a hyphen: \"{Printable(line)}\".");
        }

        return ((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0');
    }

    private SmtpReply FromCacheOrNew(int code, ReadOnlySpan<byte> line, ReadOnlySpan<byte> text)
    {
        for (var i = 0; i < CacheSize; i++)
        {
            var key = _cacheKeys[i];
            if (key is not null && line.SequenceEqual(key))
            {
                return _cacheReplies[i]!;
            }
        }

        var decoded = Decode(text);
        var reply = new SmtpReply(code, [decoded], ParseEnhancedStatusCode(code, decoded));
        _cacheKeys[_cacheNext] = line.ToArray();
        _cacheReplies[_cacheNext] = reply;
        _cacheNext = (_cacheNext + 1) % CacheSize;
        return reply;
    }

    private static EnhancedStatusCode? ParseEnhancedStatusCode(int code, string firstLine)
    {
        return EnhancedStatusCode.TryParse(firstLine, out var esc, out _) && esc.Class == code / 100 ? esc : null;
    }

    private static string Decode(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return string.Empty;
        }

        // Text is ASCII, or UTF-8 from an SMTPUTF8 server; invalid sequences become U+FFFD. Control characters
        // other than TAB are not allowed in reply text (RFC 5321 section 4.2) and are replaced, so that a reply
        // cannot forge lines in a log or a report.
        var value = Encoding.UTF8.GetString(text);
        if (value.AsSpan().IndexOfAnyInRange('\0', '\u001f') < 0 && value.AsSpan().IndexOf('\u007f') < 0)
        {
            return value;
        }

        return string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = source[i];
                span[i] = (c < ' ' && c != '\t') || c == '\u007f' ? '\uFFFD' : c;
            }
        });
    }

    private static string Printable(ReadOnlySpan<byte> line)
    {
        var shown = line.Length > 64 ? line[..64] : line;
        var builder = new StringBuilder(shown.Length + 3);
        foreach (var b in shown)
        {
            builder.Append(b is >= 32 and < 127 ? (char)b : '?');
        }

        if (line.Length > shown.Length)
        {
            builder.Append("...");
        }

        return builder.ToString();
    }
}

/// <summary>The server broke the SMTP reply syntax or a limit on reply size; <see cref="Violation"/> says which.</summary>
internal sealed class SmtpProtocolException : Exception
{
    public SmtpProtocolException(SmtpProtocolViolation violation, string message)
        : base(message)
    {
        Violation = violation;
    }

    public SmtpProtocolViolation Violation { get; }
}
