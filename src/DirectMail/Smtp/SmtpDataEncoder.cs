using System;

namespace DirectMail.Smtp;

/// <summary>
/// Turns message content into its wire form, in one pass over spans, as it streams:
/// every line end becomes CRLF (a bare CR or bare LF never reaches the wire), and for DATA a dot at the start of a
/// line is doubled (RFC 5321 section 4.5.2). Because normalisation happens first and stuffing looks at the
/// normalised line start, no input — <c>LF.LF</c>, <c>CR.CR</c>, <c>LF.CRLF</c> or any other — can end the data
/// early (SMTP smuggling). A line over 998 octets, a NUL octet, or an 8-bit octet in content declared 7-bit, stops
/// the encoder with an error instead of being rewritten: the session then ends the transaction before the final dot,
/// so the server discards the message.
/// </summary>
internal struct SmtpDataEncoder
{
    /// <summary>RFC 5321 section 4.5.3.1.6 and RFC 5322 section 2.1.1: 998 octets plus CRLF.</summary>
    public const int MaxLineLength = 998;

    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';

    private readonly bool _dotStuffing;
    private readonly bool _sevenBitOnly;
    private bool _atLineStart;
    private bool _pendingCR;
    private int _lineLength;
    private long _line;

    public SmtpDataEncoder(bool dotStuffing, bool sevenBitOnly)
    {
        _dotStuffing = dotStuffing;
        _sevenBitOnly = sevenBitOnly;
        _atLineStart = true;
        _pendingCR = false;
        _lineLength = 0;
        _line = 1;
    }

    /// <summary>The message line (1-based) being encoded, for error messages.</summary>
    public readonly long Line => _line;

    /// <summary>What was wrong with the content, after <see cref="Encode"/> returned <see cref="SmtpEncodeStatus.InvalidData"/>.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// Encodes as much of <paramref name="source"/> as fits into <paramref name="destination"/>.
    /// </summary>
    public SmtpEncodeStatus Encode(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        consumed = 0;
        written = 0;
        while (consumed < source.Length)
        {
            if (_pendingCR)
            {
                // A CR was last: CRLF stays CRLF, a bare CR becomes CRLF.
                if (destination.Length - written < 2)
                {
                    return SmtpEncodeStatus.DestinationTooSmall;
                }

                WriteLineEnd(destination, ref written);
                _pendingCR = false;
                if (source[consumed] == LF)
                {
                    consumed++;
                }

                continue;
            }

            var b = source[consumed];
            if (b == CR)
            {
                _pendingCR = true;
                consumed++;
                continue;
            }

            if (b == LF)
            {
                if (destination.Length - written < 2)
                {
                    return SmtpEncodeStatus.DestinationTooSmall;
                }

                WriteLineEnd(destination, ref written);
                consumed++;
                continue;
            }

            if (_atLineStart && b == (byte)'.' && _dotStuffing)
            {
                if (destination.Length - written < 2)
                {
                    return SmtpEncodeStatus.DestinationTooSmall;
                }

                destination[written++] = (byte)'.';
            }

            // A run of ordinary octets up to the next line end: checked and copied in bulk.
            var run = source[consumed..];
            var end = run.IndexOfAny(CR, LF);
            if (end >= 0)
            {
                run = run[..end];
            }

            var room = destination.Length - written;
            if (room == 0)
            {
                return SmtpEncodeStatus.DestinationTooSmall;
            }

            if (run.Length > room)
            {
                run = run[..room];
            }

            if (_lineLength + run.Length > MaxLineLength)
            {
                Error = $"Line {_line} of the content is longer than {MaxLineLength} octets (RFC 5322 section 2.1.1); the content must be encoded (quoted-printable or base64) or folded.";
                return SmtpEncodeStatus.InvalidData;
            }

            // NUL is never allowed (RFC 5321 section 4.5.2; RFC 6152 excludes it from 8BITMIME too): a server may
            // drop it, end a string at it, or store it. 7-bit content allows 1 to 127 only.
            var bad = _sevenBitOnly ? run.IndexOfAnyExceptInRange((byte)0x01, (byte)0x7F) : run.IndexOf((byte)0);
            if (bad >= 0)
            {
                Error = run[bad] == 0
                    ? $"Line {_line} of the content holds a NUL octet, which SMTP cannot carry (RFC 5321 section 4.5.2); encode the part it is in (base64)."
                    : $"Line {_line} of the content holds the 8-bit octet 0x{run[bad]:X2}, but the content was declared 7-bit; declare it 8-bit (the server must offer 8BITMIME) or encode it.";
                return SmtpEncodeStatus.InvalidData;
            }

            run.CopyTo(destination[written..]);
            written += run.Length;
            consumed += run.Length;
            _lineLength += run.Length;
            _atLineStart = false;
        }

        return SmtpEncodeStatus.Done;
    }

    /// <summary>
    /// Ends the content: a pending CR becomes CRLF, an unterminated last line gets its CRLF, and for DATA the
    /// terminating <c>.CRLF</c> follows. Needs at most 5 octets.
    /// </summary>
    public int Complete(Span<byte> destination)
    {
        var written = 0;
        if (_pendingCR || !_atLineStart)
        {
            WriteLineEnd(destination, ref written);
            _pendingCR = false;
        }

        if (_dotStuffing)
        {
            destination[written++] = (byte)'.';
            destination[written++] = CR;
            destination[written++] = LF;
        }

        return written;
    }

    private void WriteLineEnd(Span<byte> destination, ref int written)
    {
        destination[written++] = CR;
        destination[written++] = LF;
        _atLineStart = true;
        _lineLength = 0;
        _line++;
    }
}

/// <summary>How far <see cref="SmtpDataEncoder.Encode"/> got.</summary>
internal enum SmtpEncodeStatus
{
    /// <summary>All input was encoded.</summary>
    Done,

    /// <summary>The destination is full; flush it and call again with the rest.</summary>
    DestinationTooSmall,

    /// <summary>The content breaks a wire rule; see <see cref="SmtpDataEncoder.Error"/>.</summary>
    InvalidData,
}
