using System;
using System.Globalization;
using DirectMail.Smtp;

namespace DirectMail.Mime;

/// <summary>Checks on what goes into headers: every check runs when a value is given, before anything is written.</summary>
internal static class MimeSyntax
{
    /// <summary>The longest date <see cref="FormatDate"/> writes.</summary>
    public const int MaxDateLength = 32;

    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>A date as RFC 5322 section 3.3 writes it: "Thu, 26 Nov 2026 03:21:10 +0000".</summary>
    /// <returns>The characters written.</returns>
    public static int FormatDate(DateTimeOffset date, Span<char> text)
    {
        var n = 0;
        DayNames[(int)date.DayOfWeek].AsSpan().CopyTo(text);
        n += 3;
        text[n++] = ',';
        text[n++] = ' ';
        date.Day.TryFormat(text[n..], out var w, "00", CultureInfo.InvariantCulture);
        n += w;
        text[n++] = ' ';
        MonthNames[date.Month - 1].AsSpan().CopyTo(text[n..]);
        n += 3;
        text[n++] = ' ';
        date.Year.TryFormat(text[n..], out w, "0000", CultureInfo.InvariantCulture);
        n += w;
        text[n++] = ' ';
        date.TryFormat(text[n..], out w, "HH':'mm':'ss", CultureInfo.InvariantCulture);
        n += w;
        text[n++] = ' ';
        var offset = (int)date.Offset.TotalMinutes;
        text[n++] = offset < 0 ? '-' : '+';
        offset = Math.Abs(offset);
        (offset / 60 * 100 + offset % 60).TryFormat(text[n..], out w, "0000", CultureInfo.InvariantCulture);
        return n + w;
    }

    /// <summary>Throws when <paramref name="value"/> holds CR, LF, NUL or another control character.</summary>
    public static void ThrowOnControl(string value, string paramName, string what)
    {
        // The same set as in SMTP commands: C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
        var index = value.AsSpan().IndexOfAny(SmtpSyntax.Controls);
        if (index >= 0)
        {
            throw new ArgumentException(
                $"The {what} contains the {(value[index] >= '\u2028' ? "line or paragraph separator" : "control character")} U+{(int)value[index]:X4} at position {index}; CR, LF, NUL, other controls and line separators are refused because they could end the header or SMTP command and inject another.",
                paramName);
        }
    }

    /// <summary>True for a field name character (RFC 5322 section 2.2: printable ASCII except colon).</summary>
    public static bool IsFieldNameChar(char c) => c is > ' ' and < '\u007f' and not ':';

    /// <summary>True for an RFC 2045 token character.</summary>
    public static bool IsTokenChar(char c) => c is > ' ' and < '\u007f' and not ('(' or ')' or '<' or '>' or '@' or ',' or ';' or ':' or '\\' or '"' or '/' or '[' or ']' or '?' or '=');

    /// <summary>Checks a MIME type, <c>type/subtype</c>, and returns it in lower case.</summary>
    public static string ValidateContentType(string contentType, string paramName)
    {
        ArgumentNullException.ThrowIfNull(contentType, paramName);
        ThrowOnControl(contentType, paramName, "content type");
        var slash = contentType.IndexOf('/');
        if (slash <= 0 || slash == contentType.Length - 1)
        {
            throw new ArgumentException($"'{contentType}' is not a MIME type: it needs the form type/subtype, for example application/pdf.", paramName);
        }

        for (var i = 0; i < contentType.Length; i++)
        {
            if (i != slash && !IsTokenChar(contentType[i]))
            {
                throw new ArgumentException($"'{contentType}' is not a MIME type: '{contentType[i]}' is not allowed in a type or subtype (RFC 2045 token).", paramName);
            }
        }

        if (contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("message/", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{contentType}' cannot be the type of an attachment: multipart and message types have a structure the writer does not check.", paramName);
        }

        return contentType.ToLowerInvariant();
    }

    /// <summary>Checks a Content-ID or Message-ID without its angle brackets: printable ASCII, no space, no angle bracket or quote.</summary>
    public static void ValidateId(string id, string paramName, string what)
    {
        ArgumentNullException.ThrowIfNull(id, paramName);
        ThrowOnControl(id, paramName, what);
        if (id.Length == 0 || id.Length > 900)
        {
            throw new ArgumentException($"The {what} must be 1 to 900 characters.", paramName);
        }

        foreach (var c in id)
        {
            if (c is <= ' ' or >= '\u007f' or '<' or '>' or '"' or '\\' or '(' or ')' or ',' or ';' or ':')
            {
                throw new ArgumentException($"The {what} '{id}' holds '{c}': use printable ASCII without spaces, angle brackets, quotes or separators, for example part1@example.com.", paramName);
            }
        }
    }
}
