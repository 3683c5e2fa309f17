using System;

namespace DirectMail.Smtp;

/// <summary>
/// One pass over content as it is read, across chunks: refuses a NUL octet (naming its line and offset), finds the
/// length as sent (SIZE, RFC 1870 section 4: every line end a CRLF, a last line without its end given one), 8-bit
/// octets and 8-bit octets in the header section (RFC 6532), and, when asked, refuses a line over 998 octets. Every
/// raw message (<see cref="SmtpContent.FromBytes"/>, <see cref="SmtpContent.FromFile"/>,
/// <see cref="SmtpContent.FromStream"/>) is scanned by it, and so is content spooled once per server form.
/// </summary>
internal struct ContentScanner
{
    private const int MaxLineOctets = 998;

    private readonly bool _refuseLongLines;
    private long _length;
    private long _bareLineEnds;
    private long _lineNumber;
    private long _lineLength;
    private bool _afterCr;
    private bool _inBody;
    private byte _last;

    /// <param name="refuseLongLines">
    /// Whether a line over 998 octets (RFC 5321 section 4.5.3.1.6) is refused here; otherwise the session finds it
    /// while sending.
    /// </param>
    public ContentScanner(bool refuseLongLines) => _refuseLongLines = refuseLongLines;

    public bool HasEightBit { get; private set; }

    public bool HeaderHasEightBit { get; private set; }

    /// <summary>The header section has <c>TLS-Required: No</c> (RFC 8689 section 5), on one unfolded line.</summary>
    public bool TlsRequiredNo { get; private set; }

    public readonly SmtpBodyType BodyType => HasEightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit;

    /// <summary>
    /// The length as sent, which SIZE declares: every line end a CRLF, so a bare CR or LF counts two octets, and a
    /// last line without its end gets one.
    /// </summary>
    public readonly long WireLength
    {
        get
        {
            var length = _length + _bareLineEnds + (_afterCr ? 1 : 0);
            return _length > 0 && _last is not ((byte)'\r' or (byte)'\n') ? length + 2 : length;
        }
    }

    /// <exception cref="SmtpContentException">The data holds a NUL octet.</exception>
    /// <exception cref="ArgumentException">A line is longer than 998 octets, when long lines are refused.</exception>
    public void Feed(ReadOnlySpan<byte> data, string? paramName)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var nul = data.IndexOf((byte)0);
        if (nul >= 0)
        {
            Feed(data[..nul], paramName);
            throw SmtpContentException.Nul(_length, _lineNumber + 1, paramName);
        }

        _length += data.Length;
        _last = data[^1];
        if (!HasEightBit && data.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
        {
            HasEightBit = true;
        }

        while (!data.IsEmpty)
        {
            if (_afterCr)
            {
                _afterCr = false;
                if (data[0] == '\n')
                {
                    data = data[1..];
                    continue;
                }

                _bareLineEnds++; // a CR without its LF
            }

            var end = data.IndexOfAny((byte)'\r', (byte)'\n');
            var line = end < 0 ? data : data[..end];
            if (!_inBody && !HeaderHasEightBit && line.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
            {
                HeaderHasEightBit = true;
            }

            _lineLength += line.Length;
            if (_refuseLongLines && _lineLength > MaxLineOctets)
            {
                throw new ArgumentException($"Line {_lineNumber + 1} of the message is longer than {MaxLineOctets} octets, the most SMTP allows (RFC 5321 section 4.5.3.1.6); encode the part it is in (quoted-printable or base64) or fold the header.", paramName);
            }

            if (end < 0)
            {
                return;
            }

            if (_lineLength == 0)
            {
                _inBody = true; // the empty line that ends the header section
            }
            else if (!_inBody && _lineLength == line.Length && IsTlsRequiredNo(line))
            {
                TlsRequiredNo = true;
            }

            _afterCr = data[end] == '\r';
            if (!_afterCr)
            {
                _bareLineEnds++; // an LF without its CR
            }

            _lineLength = 0;
            _lineNumber++;
            data = data[(end + 1)..];
        }
    }

    /// <summary><c>TLS-Required:</c> (any case) whose value, spaces aside, is <c>No</c> (any case).</summary>
    private static bool IsTlsRequiredNo(ReadOnlySpan<byte> line)
    {
        var name = "TLS-Required:"u8;
        return line.Length > name.Length
            && System.Text.Ascii.EqualsIgnoreCase(line[..name.Length], name)
            && System.Text.Ascii.EqualsIgnoreCase(line[name.Length..].Trim(" \t"u8), "No"u8);
    }
}
