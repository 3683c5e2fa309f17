using System;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace DirectMail.Diagnostics;

/// <summary>
/// Makes text that came from a server (SMTP replies, DNS records) or from the command line safe to show on a
/// terminal or in a log: every character that could move the cursor, start an escape sequence (ESC, CSI, OSC), end or
/// forge a line (CR, LF, NEL, U+2028) or reorder what is shown (the bidirectional controls, Trojan Source) is
/// written as a visible escape, <c>\x1b</c> or <c>\u202e</c>. Horizontal tab and all other text are kept as they are.
/// </summary>
/// <remarks>
/// Escaped: C0 controls except HT (U+0000 to U+001F), DEL (U+007F), C1 controls (U+0080 to U+009F), the Arabic letter
/// mark U+061C, the marks U+200E and U+200F, the embeddings and overrides U+202A to U+202E, the isolates U+2066 to
/// U+2069, and the line and paragraph separators U+2028 and U+2029. The escapes are for people; the original text
/// stays available (for example in <see cref="Smtp.SmtpReply.Lines"/>).
/// </remarks>
public static class DisplayText
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"
        + "\u007F\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
        + "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u2028\u2029");

    /// <summary>True when <paramref name="c"/> is written as an escape by <see cref="Escape(string)"/>.</summary>
    /// <param name="c">A character.</param>
    /// <returns>Whether it is escaped.</returns>
    public static bool IsUnsafe(char c) => Unsafe.Contains(c);

    /// <summary>The text with every unsafe character written as an escape; the same instance when there is none.</summary>
    /// <param name="text">The text; null gives an empty string.</param>
    /// <returns>Text that shows as one line and cannot control a terminal.</returns>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        return text.AsSpan().IndexOfAny(Unsafe) < 0 ? text : Escape(text.AsSpan());
    }

    /// <summary>The text with every unsafe character written as an escape.</summary>
    /// <param name="text">The text.</param>
    /// <returns>Text that shows as one line and cannot control a terminal.</returns>
    public static string Escape(ReadOnlySpan<char> text)
    {
        var first = text.IndexOfAny(Unsafe);
        if (first < 0)
        {
            return text.ToString();
        }

        var builder = new StringBuilder(text.Length + 16);
        while (first >= 0)
        {
            builder.Append(text[..first]);
            var c = text[first];
            builder.Append(c <= '\u00ff' ? "\\x" : "\\u");
            builder.Append(((int)c).ToString(c <= '\u00ff' ? "x2" : "x4", CultureInfo.InvariantCulture));
            text = text[(first + 1)..];
            first = text.IndexOfAny(Unsafe);
        }

        return builder.Append(text).ToString();
    }

    /// <summary>UTF-8 octets (as a server sent them) decoded, invalid sequences as U+FFFD, and escaped.</summary>
    internal static string EscapeUtf8(ReadOnlySpan<byte> octets) => Escape(Encoding.UTF8.GetString(octets));
}
