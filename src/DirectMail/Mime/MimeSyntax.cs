using System;
using System.Buffers;

namespace DirectMail.Mime;

/// <summary>Checks on what goes into headers: every check runs when a value is given, before anything is written.</summary>
internal static class MimeSyntax
{
    // C0 controls (TAB, CR and LF included), DEL, C1 controls, and the Unicode line and paragraph separators:
    // any of them in a header could end the field and start another (header injection) or end an SMTP command.
    private static readonly SearchValues<char> HeaderControls = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"
        + "\u007F\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F\u2028\u2029");

    /// <summary>Throws when <paramref name="value"/> holds CR, LF, NUL or another control character.</summary>
    public static void ThrowOnControl(string value, string paramName, string what)
    {
        var index = value.AsSpan().IndexOfAny(HeaderControls);
        if (index >= 0)
        {
            throw new ArgumentException(
                $"The {what} contains the control character U+{(int)value[index]:X4} at position {index}; CR, LF, NUL and other controls are refused because they could end the header or SMTP command and inject another.",
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
