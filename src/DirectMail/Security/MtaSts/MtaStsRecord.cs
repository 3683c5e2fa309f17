using System;
using System.Collections.Generic;

namespace DirectMail.Security.MtaSts;

/// <summary>
/// The <c>_mta-sts.&lt;domain&gt;</c> TXT record (RFC 8461 section 3.1): <c>v=STSv1; id=20160831085700Z;</c>. Its id
/// changes when the policy does; a cached policy of another id is fetched again.
/// </summary>
internal static class MtaStsRecord
{
    /// <summary>sts-id = 1*32(ALPHA / DIGIT).</summary>
    private static readonly System.Buffers.SearchValues<char> Alphanumerics = System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>
    /// The policy id announced by the TXT records of <c>_mta-sts.&lt;domain&gt;</c> (each record's strings joined); null
    /// when there is no usable record: records not starting with <c>v=STSv1;</c> are discarded, and none or more than
    /// one left, or a malformed one, means the domain has no available policy.
    /// </summary>
    public static string? FindId(IReadOnlyList<string> records, out string? error)
    {
        string? found = null;
        var count = 0;
        foreach (var record in records)
        {
            if (!record.StartsWith("v=STSv1", StringComparison.Ordinal))
            {
                continue;
            }

            // "v=STSv1" must be followed by ";" (optionally after spaces): "v=STSv10" is another version.
            var after = record.AsSpan(7).TrimStart(" \t");
            if (!after.IsEmpty && after[0] != ';')
            {
                continue;
            }

            count++;
            found = record;
        }

        if (count != 1)
        {
            error = count == 0 ? "no v=STSv1 TXT record" : "more than one v=STSv1 TXT record";
            return null;
        }

        return ParseId(found!, out error);
    }

    /// <summary>The id of one record, or null when the record is malformed.</summary>
    internal static string? ParseId(string record, out string? error)
    {
        string? id = null;
        var first = true;
        var rest = record.AsSpan();
        while (!rest.IsEmpty)
        {
            var semicolon = rest.IndexOf(';');
            var field = (semicolon < 0 ? rest : rest[..semicolon]).Trim(" \t");
            rest = semicolon < 0 ? ReadOnlySpan<char>.Empty : rest[(semicolon + 1)..];
            if (field.IsEmpty)
            {
                // Only the trailing ";" may leave an empty field (sts-text-record ends in an optional ";").
                continue;
            }

            var equals = field.IndexOf('=');
            if (equals <= 0)
            {
                error = "a field of the TXT record is not name=value";
                return null;
            }

            var name = field[..equals];
            var value = field[(equals + 1)..];
            if (first)
            {
                first = false;
                if (!name.SequenceEqual("v") || !value.SequenceEqual("STSv1"))
                {
                    error = "the TXT record does not start with v=STSv1";
                    return null;
                }

                continue;
            }

            if (name.SequenceEqual("id"))
            {
                if (id is not null || value.Length is 0 or > 32 || value.ContainsAnyExcept(Alphanumerics))
                {
                    error = "the TXT record's id is not 1 to 32 letters and digits (or is repeated)";
                    return null;
                }

                id = value.ToString();
            }

            // Other fields are extensions: ignored.
        }

        error = id is null ? "the TXT record has no id" : null;
        return id;
    }
}
