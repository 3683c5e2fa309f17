using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

/// <summary>
/// One reply of an SMTP server (RFC 5321 section 4.2): a three-digit code, an optional enhanced
/// status code (RFC 3463) and the text of every line, multi-line replies included.
/// </summary>
public sealed class SmtpReply
{
    private readonly string[] _lines;
    private string? _text;

    /// <summary>Creates a reply. Used by the parser, and by code that reports a decision DirectMail made itself.</summary>
    /// <param name="code">The three-digit reply code, 200 to 599.</param>
    /// <param name="lines">The text of each line, without the code and separator.</param>
    /// <param name="isSynthetic">True when DirectMail made this reply itself instead of reading it from a server.</param>
    internal SmtpReply(int code, IReadOnlyList<string> lines, bool isSynthetic = false)
    {
        if (code is < 200 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "An SMTP reply code is 200 to 599.");
        }

        ArgumentNullException.ThrowIfNull(lines);
        var copy = new string[lines.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = lines[i] ?? throw new ArgumentException("A reply line is null.", nameof(lines));
        }

        _lines = copy.Length == 0 ? [string.Empty] : copy;
        Code = code;
        IsSynthetic = isSynthetic;
        EnhancedStatusCode = DirectMail.Smtp.EnhancedStatusCode.TryParse(_lines[0], out var esc, out _) && esc.Class == code / 100 ? esc : null;
    }

    internal SmtpReply(int code, string[] lines, EnhancedStatusCode? enhancedStatusCode)
    {
        Code = code;
        _lines = lines;
        EnhancedStatusCode = enhancedStatusCode;
    }

    /// <summary>The three-digit reply code, for example 250 or 550.</summary>
    public int Code { get; }

    /// <summary>The enhanced status code (RFC 3463) at the start of the first line, when the server gave one whose class matches <see cref="Code"/>.</summary>
    public EnhancedStatusCode? EnhancedStatusCode { get; }

    /// <summary>The text of every line, without the code and the separator, in the order received.</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>The text of all lines joined with a line feed; the enhanced status code, when present, stays in the text.</summary>
    public string Text => _text ??= _lines.Length == 1 ? _lines[0] : string.Join('\n', _lines);

    /// <summary>True when DirectMail made this reply to report its own decision (for example, an address the server cannot take); no server sent it.</summary>
    public bool IsSynthetic { get; }

    /// <summary>2xx: the command was accepted.</summary>
    public bool IsPositiveCompletion => Code is >= 200 and < 300;

    /// <summary>3xx: the server waits for more (354 after DATA).</summary>
    public bool IsPositiveIntermediate => Code is >= 300 and < 400;

    /// <summary>4xx: a transient failure; the same command may succeed later.</summary>
    public bool IsTransientNegative => Code is >= 400 and < 500;

    /// <summary>5xx: a permanent failure; repeating the same command will fail again.</summary>
    public bool IsPermanentNegative => Code >= 500;

    /// <summary>
    /// A reply from its <see cref="ToString"/> form (as the queue stores it), or null when the text is not one: a
    /// three-digit code, then each line's text after its separator.
    /// </summary>
    internal static SmtpReply? FromStored(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length < 3 || !int.TryParse(text.AsSpan(0, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code) || code is < 200 or > 599)
        {
            return null;
        }

        var parts = text.Split('\n');
        var lines = new string[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length < 3 || !part.AsSpan(0, 3).SequenceEqual(text.AsSpan(0, 3)))
            {
                return null;
            }

            lines[i] = part.Length > 4 ? part[4..] : string.Empty;
        }

        return new SmtpReply(code, lines);
    }

    /// <summary>The reply as a server sends it, one line per line, without the trailing CRLF.</summary>
    public override string ToString()
    {
        if (_lines.Length == 1)
        {
            return _lines[0].Length == 0 ? Code.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Code} {_lines[0]}";
        }

        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < _lines.Length; i++)
        {
            if (i > 0)
            {
                builder.Append('\n');
            }

            builder.Append(Code).Append(i == _lines.Length - 1 ? ' ' : '-').Append(_lines[i]);
        }

        return builder.ToString();
    }
}
