using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;

namespace DirectMail.Cli;

/// <summary>Durations on the command line: a whole number and a unit, s, m, h or d ("30s", "5m", "1d"), and lists of them ("2s,5s,1m").</summary>
internal static class Durations
{
    /// <summary>An option taking one duration; a wrong one is a usage error naming the option.</summary>
    public static Option<TimeSpan?> Option(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
            if (TryParse(text, out var value))
            {
                return value;
            }

            result.AddError($"{name} '{text}' is not a duration: a whole number above 0 and s, m, h or d (30s, 5m, 2h, 1d).");
            return null;
        },
    };

    /// <summary>An option taking a comma-separated list of durations.</summary>
    public static Option<TimeSpan[]?> ListOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "D,D,...",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new List<TimeSpan>(parts.Length);
            foreach (var part in parts)
            {
                if (!TryParse(part, out var value))
                {
                    result.AddError($"{name} '{text}': '{part}' is not a duration: give whole numbers above 0 with s, m, h or d, separated by commas (2s,5s,1m,1h,1d).");
                    return null;
                }

                values.Add(value);
            }

            return values.ToArray();
        },
    };

    /// <summary>"45s", "5m", "2h", "3d": the largest whole unit (for ages and waits).</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalDays >= 1 ? Whole(span.TotalDays) + "d"
            : span.TotalHours >= 1 ? Whole(span.TotalHours) + "h"
            : span.TotalMinutes >= 1 ? Whole(span.TotalMinutes) + "m"
            : Whole(span.TotalSeconds) + "s";
    }

    private static string Whole(double value) => ((long)value).ToString(CultureInfo.InvariantCulture);

    private static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        if (text.Length < 2
            || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number <= 0 || number > 1_000_000)
        {
            return false;
        }

        switch (text[^1])
        {
            case 's': value = TimeSpan.FromSeconds(number); return true;
            case 'm': value = TimeSpan.FromMinutes(number); return true;
            case 'h': value = TimeSpan.FromHours(number); return true;
            case 'd': value = TimeSpan.FromDays(number); return true;
            default: return false;
        }
    }
}
