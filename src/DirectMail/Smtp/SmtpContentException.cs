using System;

namespace DirectMail.Smtp;

/// <summary>
/// Message content that SMTP cannot carry, found before anything was sent: a NUL octet (RFC 5321 section 4.5.2 and
/// RFC 6152 allow none in DATA, 8BITMIME content included), or a line over 998 octets.
/// </summary>
public sealed class SmtpContentException : ArgumentException
{
    internal SmtpContentException(string message, long offset, long line, string? paramName)
        : base(message, paramName)
    {
        Offset = offset;
        Line = line;
    }

    /// <summary>Where the offending octet or line is, in octets from the start of the content.</summary>
    public long Offset { get; }

    /// <summary>The line (1-based) of the content it is on.</summary>
    public long Line { get; }

    internal static SmtpContentException Nul(long offset, long line, string? paramName) => new(
        $"Line {line} of the content holds a NUL octet (offset {offset}); SMTP cannot carry NUL (RFC 5321 section 4.5.2), not even with 8BITMIME: encode the part it is in (base64).",
        offset,
        line,
        paramName);
}
