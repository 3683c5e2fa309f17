using System;
using System.Text;
using DirectMail.Diagnostics;

namespace DirectMail.Cli;

/// <summary>
/// Everything directmail prints that did not come from itself (server replies, the transcript, DNS text, exception
/// messages, names typed on the command line) goes through here, so that a hostile server cannot send ESC/OSC
/// sequences to the terminal, forge an "S:" line with a bare CR, or reorder a line with U+202E: see
/// <see cref="DisplayText"/>.
/// </summary>
internal static class Display
{
    private static readonly System.Buffers.SearchValues<char> Bidi = System.Buffers.SearchValues.Create("\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>One line: every control, line break and bidirectional control as a visible escape.</summary>
    public static string Line(string? text) => DisplayText.Escape(text);

    /// <summary>Several lines (a stack trace, a report's text): each line escaped, the line breaks kept as this system's.</summary>
    public static string Lines(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = DisplayText.Escape(lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i]);
        }

        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>
    /// JSON text with the bidirectional controls that System.Text.Json's relaxed encoder leaves raw written as
    /// <c>\uXXXX</c> escapes (it already escapes C0, C1, U+2028 and U+2029). They can only be inside strings (JSON
    /// outside strings is ASCII), where the escape means the same character: a program reads the same value.
    /// </summary>
    public static string Json(string json)
    {
        if (json.AsSpan().IndexOfAny(Bidi) < 0)
        {
            return json;
        }

        var builder = new StringBuilder(json.Length + 32);
        foreach (var c in json)
        {
            if (Bidi.Contains(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
