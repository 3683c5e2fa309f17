using System;

namespace DirectMail.Dsn;

/// <summary>Reads an RFC 5322 date-time (<c>Tue, 01 Dec 2026 08:00:00 +0000</c>, with the obsolete zone names and a trailing comment).</summary>
internal static class MailDate
{
    private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    public static DateTimeOffset? Parse(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        var comma = text.IndexOf(',');
        if (comma >= 0)
        {
            text = text[(comma + 1)..].TrimStart();
        }

        if (!Number(ref text, out var day) || !Word(ref text, out var monthName) || !Number(ref text, out var year))
        {
            return null;
        }

        var month = -1;
        for (var i = 0; i < Months.Length; i++)
        {
            if (monthName.Length >= 3 && monthName[..3].Equals(Months[i], StringComparison.OrdinalIgnoreCase))
            {
                month = i + 1;
                break;
            }
        }

        if (year < 100)
        {
            year += year < 50 ? 2000 : 1900;
        }

        if (!Word(ref text, out var time) || month < 0)
        {
            return null;
        }

        var parts = time;
        if (!TimePart(ref parts, out var hour) || !TimePart(ref parts, out var minute))
        {
            return null;
        }

        var second = 0;
        if (!parts.IsEmpty && !TimePart(ref parts, out second))
        {
            return null;
        }

        var offset = TimeSpan.Zero;
        if (Word(ref text, out var zone))
        {
            if (zone.Length == 5 && (zone[0] == '+' || zone[0] == '-') && int.TryParse(zone[1..3], out var zh) && int.TryParse(zone[3..], out var zm) && zh < 24 && zm < 60)
            {
                offset = new TimeSpan(zh, zm, 0);
                if (zone[0] == '-')
                {
                    offset = -offset;
                }
            }
            else
            {
                offset = zone.ToString().ToUpperInvariant() switch
                {
                    "EDT" => TimeSpan.FromHours(-4),
                    "EST" or "CDT" => TimeSpan.FromHours(-5),
                    "CST" or "MDT" => TimeSpan.FromHours(-6),
                    "MST" or "PDT" => TimeSpan.FromHours(-7),
                    "PST" => TimeSpan.FromHours(-8),
                    _ => TimeSpan.Zero,
                };
            }
        }

        try
        {
            return new DateTimeOffset(year, month, day, hour, minute, second, offset);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static bool Word(ref ReadOnlySpan<char> text, out ReadOnlySpan<char> word)
    {
        text = text.TrimStart();
        var end = text.IndexOfAny(' ', '\t');
        word = end < 0 ? text : text[..end];
        text = end < 0 ? default : text[end..];
        return !word.IsEmpty;
    }

    private static bool Number(ref ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        return Word(ref text, out var word) && word.Length <= 4 && int.TryParse(word, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    private static bool TimePart(ref ReadOnlySpan<char> text, out int value)
    {
        var colon = text.IndexOf(':');
        var part = colon < 0 ? text : text[..colon];
        text = colon < 0 ? default : text[(colon + 1)..];
        return int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && part.Length <= 2;
    }
}
