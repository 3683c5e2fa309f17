using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// A domain's <c>_smtp._tls</c> TXT record (RFC 8460 section 3): where its aggregate reports go. Only the <c>mailto:</c>
/// and <c>https:</c> destinations this sender can use are kept.
/// </summary>
internal sealed class TlsRptRecord
{
    /// <summary>
    /// At most this many destinations are used: the record is the receiving domain's, and a record naming hundreds
    /// would make every sender's daily report hundreds of messages or posts.
    /// </summary>
    public const int MaxDestinations = 5;

    private const string Version = "v=TLSRPTv1";

    private TlsRptRecord(ImmutableArray<string> mailto, ImmutableArray<Uri> https)
    {
        MailtoAddresses = mailto;
        HttpsEndpoints = https;
    }

    /// <summary>The mailboxes of the record's <c>mailto:</c> URIs, percent-decoded.</summary>
    public ImmutableArray<string> MailtoAddresses { get; }

    /// <summary>The record's <c>https:</c> URIs.</summary>
    public ImmutableArray<Uri> HttpsEndpoints { get; }

    /// <summary>
    /// RFC 8460 section 3: of the TXT records at <c>_smtp._tls.&lt;domain&gt;</c>, those that do not begin with
    /// <c>v=TLSRPTv1</c> are discarded; unless exactly one remains the domain does not implement TLS-RPT.
    /// </summary>
    /// <param name="texts">Each TXT record's text (its strings joined without separators).</param>
    /// <param name="record">The record, when there is exactly one and it parses.</param>
    /// <param name="error">Why there is no record (none, several, or why the one does not parse).</param>
    public static bool TrySelect(IReadOnlyList<string> texts, out TlsRptRecord? record, out string? error)
    {
        string? candidate = null;
        var count = 0;
        foreach (var text in texts)
        {
            if (StartsWithVersion(text))
            {
                candidate = text;
                count++;
            }
        }

        record = null;
        if (count != 1)
        {
            error = count == 0 ? "no v=TLSRPTv1 record" : $"{count} v=TLSRPTv1 records (exactly one is required)";
            return false;
        }

        return TryParse(candidate!, out record, out error);
    }

    /// <summary>Parses one record by the ABNF of RFC 8460 section 3; unknown fields that are well formed are ignored.</summary>
    public static bool TryParse(string text, out TlsRptRecord? record, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        record = null;
        if (!StartsWithVersion(text))
        {
            error = "the record does not begin with v=TLSRPTv1;";
            return false;
        }

        var span = text.AsSpan(Version.Length);
        string? rua = null;
        var fields = 0;
        while (true)
        {
            // field-delim = *WSP ";" *WSP
            span = TrimWsp(span);
            if (span.IsEmpty)
            {
                break;
            }

            if (span[0] != ';')
            {
                error = "a field is not followed by \";\"";
                return false;
            }

            span = TrimWsp(span[1..]);
            if (span.IsEmpty)
            {
                break; // the one optional trailing delimiter
            }

            var end = span.IndexOf(';');
            var field = end < 0 ? span : span[..end];
            span = end < 0 ? ReadOnlySpan<char>.Empty : span[end..];
            field = TrimEndWsp(field);
            var equals = field.IndexOf('=');
            if (equals <= 0)
            {
                error = "a field is not name=value";
                return false;
            }

            var name = field[..equals];
            var value = field[(equals + 1)..];
            fields++;
            if (name.SequenceEqual("rua"))
            {
                if (rua is not null)
                {
                    error = "rua appears twice";
                    return false;
                }

                rua = value.ToString();
                continue;
            }

            if (!IsExtensionName(name) || !IsExtensionValue(value))
            {
                error = $"the field \"{Printable(name)}\" is not a valid extension (RFC 8460 section 3)";
                return false;
            }
        }

        if (fields == 0)
        {
            error = "the record has no fields after v=TLSRPTv1";
            return false;
        }

        if (rua is null)
        {
            error = "the record has no rua";
            return false;
        }

        return TryParseRua(rua, out record, out error);
    }

    private static bool TryParseRua(string rua, out TlsRptRecord? record, out string? error)
    {
        record = null;
        var mailto = ImmutableArray.CreateBuilder<string>();
        var https = ImmutableArray.CreateBuilder<Uri>();
        foreach (var part in rua.Split(','))
        {
            var uri = part.AsSpan().Trim(" \t");
            if (uri.IsEmpty)
            {
                error = "rua has an empty URI";
                return false;
            }

            foreach (var c in uri)
            {
                // A URI has no spaces, controls or non-ASCII (RFC 3986); ";" and "," inside one must be percent-encoded.
                if (c <= ' ' || c >= 0x7F)
                {
                    error = "a rua URI holds a space, a control or a non-ASCII character";
                    return false;
                }
            }

            if (uri.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
            {
                if (!TryMailbox(uri["mailto:".Length..], out var mailbox))
                {
                    error = $"\"{uri}\" is not a mailto URI with one mailbox";
                    return false;
                }

                if (mailto.Count + https.Count < MaxDestinations)
                {
                    mailto.Add(mailbox);
                }
            }
            else if (uri.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
            {
                if (!Uri.TryCreate(uri.ToString(), UriKind.Absolute, out var endpoint)
                    || endpoint.Scheme != Uri.UriSchemeHttps
                    || endpoint.Host.Length == 0
                    || endpoint.UserInfo.Length != 0)
                {
                    error = $"\"{uri}\" is not an https URI with a host";
                    return false;
                }

                if (mailto.Count + https.Count < MaxDestinations)
                {
                    https.Add(endpoint);
                }
            }
            else if (uri.IndexOf(':') <= 0)
            {
                error = $"\"{uri}\" is not a URI";
                return false;
            }

            // Other schemes are URIs this sender cannot use: skipped, the others still serve.
        }

        if (mailto.Count + https.Count == 0)
        {
            error = "rua names no mailto or https URI";
            return false;
        }

        record = new TlsRptRecord(mailto.ToImmutable(), https.ToImmutable());
        error = null;
        return true;
    }

    /// <summary>The mailbox of a mailto URI's path (RFC 6068): one addr-spec, percent-decoded; headers after "?" are ignored.</summary>
    private static bool TryMailbox(ReadOnlySpan<char> path, out string mailbox)
    {
        mailbox = string.Empty;
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }

        if (path.IsEmpty || path.IndexOf(',') >= 0)
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(path.ToString());
        }
        catch (UriFormatException)
        {
            return false;
        }

        var at = decoded.LastIndexOf('@');
        if (at <= 0 || at == decoded.Length - 1)
        {
            return false;
        }

        foreach (var c in decoded)
        {
            // Decoding must not bring back what the URI's syntax kept out: a line break would end an SMTP command.
            if (c <= ' ' || c == 0x7F || c is '<' or '>' or ',')
            {
                return false;
            }
        }

        mailbox = decoded;
        return true;
    }

    private static bool StartsWithVersion(string text)
    {
        if (!text.StartsWith(Version, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = TrimWsp(text.AsSpan(Version.Length));
        return !rest.IsEmpty && rest[0] == ';';
    }

    // tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    private static bool IsExtensionName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > 32 || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    // tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): visible ASCII except "=" and ";".
    private static bool IsExtensionValue(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c < 0x21 || c > 0x7E || c is '=' or ';')
            {
                return false;
            }
        }

        return true;
    }

    private static ReadOnlySpan<char> TrimWsp(ReadOnlySpan<char> span) => span.TrimStart(" \t");

    private static ReadOnlySpan<char> TrimEndWsp(ReadOnlySpan<char> span) => span.TrimEnd(" \t");

    private static string Printable(ReadOnlySpan<char> text)
    {
        var chars = new char[Math.Min(text.Length, 40)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = text[i] is >= ' ' and < (char)0x7F ? text[i] : '?';
        }

        return new string(chars);
    }
}
