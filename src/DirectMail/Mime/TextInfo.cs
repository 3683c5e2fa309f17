using System;
using System.Buffers;
using System.Text;

namespace DirectMail.Mime;

/// <summary>A Content-Transfer-Encoding (RFC 2045 section 6).</summary>
internal enum TransferEncoding
{
    SevenBit,
    EightBit,
    QuotedPrintable,
    Base64,
}

/// <summary>What a text body holds, found in one scan, from which its transfer encoding is chosen for each server.</summary>
internal readonly struct TextInfo
{
    private const int MaxLineOctets = 998;

    // Controls other than TAB, CR and LF: not allowed in 7bit or 8bit data (RFC 2045 section 2.7), so they are encoded.
    private static readonly SearchValues<char> BodyControls = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000B\u000C\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    private TextInfo(bool nonAscii, bool needsEncoding, int utf8Length, int escapes)
    {
        NonAscii = nonAscii;
        NeedsEncoding = needsEncoding;
        Utf8Length = utf8Length;
        Escapes = escapes;
    }

    /// <summary>True when the text holds non-ASCII characters.</summary>
    public bool NonAscii { get; }

    /// <summary>True when the text cannot go as 7bit or 8bit: a control character or a line over 998 octets.</summary>
    public bool NeedsEncoding { get; }

    /// <summary>The length in UTF-8.</summary>
    public int Utf8Length { get; }

    /// <summary>An estimate of the octets quoted-printable would escape.</summary>
    public int Escapes { get; }

    public static TextInfo Scan(string text)
    {
        var span = text.AsSpan();
        var nonAscii = !Ascii.IsValid(span);
        var utf8Length = nonAscii ? Encoding.UTF8.GetByteCount(span) : span.Length;
        var needsEncoding = span.IndexOfAny(BodyControls) >= 0;

        // Look for a line over 998 octets by windows: the last line break within the next 998 characters (332 when
        // a character may take 3 octets) skips every short line before it at once.
        var limit = nonAscii ? MaxLineOctets / 3 : MaxLineOctets;
        var rest = span;
        while (!needsEncoding && rest.Length > limit)
        {
            var window = rest[..(limit + 1)];
            var lastBreak = window.LastIndexOfAny('\r', '\n');
            if (lastBreak >= 0)
            {
                rest = rest[(lastBreak + 1)..];
                continue;
            }

            // A line of more than `limit` characters: measure it exactly.
            var end = rest.IndexOfAny('\r', '\n');
            var line = end < 0 ? rest : rest[..end];
            if (!nonAscii || line.Length > MaxLineOctets || Encoding.UTF8.GetByteCount(line) > MaxLineOctets)
            {
                needsEncoding = true;
            }

            rest = end < 0 ? default : rest[(end + 1)..];
        }

        // Each non-ASCII character is 2 to 4 octets in UTF-8, each escaped as =XX.
        var escapes = 2 * (utf8Length - span.Length);
        return new TextInfo(nonAscii, needsEncoding, utf8Length, escapes);
    }

    /// <summary>
    /// 7bit for ASCII text, 8bit for other text when the server takes it, otherwise quoted-printable when it is
    /// shorter than base64 (few escapes), else base64.
    /// </summary>
    public TransferEncoding Choose(bool eightBitAllowed)
    {
        if (!NeedsEncoding)
        {
            if (!NonAscii)
            {
                return TransferEncoding.SevenBit;
            }

            if (eightBitAllowed)
            {
                return TransferEncoding.EightBit;
            }
        }

        // Quoted-printable (readable) while at most a quarter of the octets are escaped; base64 (a third larger) beyond.
        return Escapes * 4L < Utf8Length ? TransferEncoding.QuotedPrintable : TransferEncoding.Base64;
    }
}
