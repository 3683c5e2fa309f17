using System;
using System.Collections.Generic;

namespace DirectMail.Doctor;

/// <summary>A tag=value list as DKIM key records (RFC 6376 section 3.2) and DMARC records (RFC 7489 section 6.4) write them.</summary>
internal static class TagValueList
{
    /// <summary>
    /// Splits <paramref name="text"/> at semicolons into tags (case-sensitive names, as both RFCs say, kept in order)
    /// with whitespace around names and values removed. Returns null with an error for an empty name, a tag without
    /// '=' or a tag given twice.
    /// </summary>
    public static List<KeyValuePair<string, string>>? Parse(string text, out string? error)
    {
        var tags = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(';'))
        {
            if (part.Trim().Length == 0)
            {
                // A trailing semicolon is allowed (tag-list = tag-spec *( ";" tag-spec ) [ ";" ]).
                continue;
            }

            var equals = part.IndexOf('=');
            if (equals < 0)
            {
                error = $"'{part.Trim()}' is not a tag=value pair";
                return null;
            }

            var name = part[..equals].Trim();
            if (name.Length == 0)
            {
                error = $"'{part.Trim()}' has no tag name";
                return null;
            }

            if (!seen.Add(name))
            {
                error = $"the tag '{name}' appears twice";
                return null;
            }

            tags.Add(new(name, part[(equals + 1)..].Trim()));
        }

        error = null;
        return tags;
    }

    public static string? Get(List<KeyValuePair<string, string>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value;
            }
        }

        return null;
    }
}
