using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DirectMail.Doctor;

/// <summary>The result of an SPF check (RFC 7208 section 2.6).</summary>
internal enum SpfResult
{
    /// <summary>No SPF record was found, or the domain is not a valid domain name (section 2.6.1).</summary>
    None = 0,

    /// <summary>The record says nothing about the address: <c>?all</c>, or no mechanism matched and there is no redirect (section 2.6.2).</summary>
    Neutral,

    /// <summary>The address is authorised (section 2.6.3).</summary>
    Pass,

    /// <summary>The address is explicitly not authorised: <c>-</c> (section 2.6.4).</summary>
    Fail,

    /// <summary>The address is probably not authorised: <c>~</c> (section 2.6.5).</summary>
    SoftFail,

    /// <summary>A DNS lookup failed in a way that may pass (section 2.6.6).</summary>
    TempError,

    /// <summary>The published record cannot be interpreted: a syntax error, several records, or too many DNS lookups (section 2.6.7).</summary>
    PermError,
}

/// <summary>An SPF mechanism (RFC 7208 section 5).</summary>
internal enum SpfMechanismKind
{
    All,
    Include,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
    Exists,
}

/// <summary>A directive: qualifier and mechanism, with its domain-spec (unexpanded) or network.</summary>
internal sealed record SpfDirective(char Qualifier, SpfMechanismKind Kind, string? DomainSpec, IPAddress? Network, int Cidr4, int Cidr6, string Text)
{
    public SpfResult Result => Qualifier switch
    {
        '-' => SpfResult.Fail,
        '~' => SpfResult.SoftFail,
        '?' => SpfResult.Neutral,
        _ => SpfResult.Pass,
    };
}

/// <summary>A parsed SPF record (RFC 7208 section 4.6.1 and 12): its directives in order and the redirect modifier.</summary>
internal sealed class SpfRecord
{
    private SpfRecord(List<SpfDirective> directives, string? redirect, string? explanation)
    {
        Directives = directives;
        Redirect = redirect;
        Explanation = explanation;
    }

    public IReadOnlyList<SpfDirective> Directives { get; }

    /// <summary>The domain-spec of <c>redirect=</c>, unexpanded; null when absent.</summary>
    public string? Redirect { get; }

    /// <summary>The domain-spec of <c>exp=</c>; parsed, never fetched (the doctor has no one to explain a failure to).</summary>
    public string? Explanation { get; }

    /// <summary>True when <paramref name="txt"/> is an SPF version 1 record: <c>v=spf1</c> alone or followed by a space (section 4.5).</summary>
    public static bool IsSpf(string txt) =>
        txt.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase) && (txt.Length == 6 || txt[6] == ' ');

    /// <summary>Parses a record that <see cref="IsSpf"/> accepted; on a syntax error returns null and says why (a permerror, section 4.6).</summary>
    public static SpfRecord? Parse(string txt, out string? error)
    {
        var directives = new List<SpfDirective>();
        string? redirect = null;
        string? explanation = null;
        foreach (var term in txt[6..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var nameEnd = ModifierNameLength(term);
            if (nameEnd > 0 && nameEnd < term.Length && term[nameEnd] == '=')
            {
                var name = term[..nameEnd];
                var value = term[(nameEnd + 1)..];
                if (!SpfMacro.IsValid(value, isDomainSpec: name.Equals("redirect", StringComparison.OrdinalIgnoreCase) || name.Equals("exp", StringComparison.OrdinalIgnoreCase), out error))
                {
                    error = $"'{term}': {error}";
                    return null;
                }

                // Section 6: redirect and exp each appear at most once; unknown modifiers are ignored.
                if (name.Equals("redirect", StringComparison.OrdinalIgnoreCase))
                {
                    if (redirect is not null)
                    {
                        error = "the redirect modifier appears twice (RFC 7208 section 6)";
                        return null;
                    }

                    redirect = value;
                }
                else if (name.Equals("exp", StringComparison.OrdinalIgnoreCase))
                {
                    if (explanation is not null)
                    {
                        error = "the exp modifier appears twice (RFC 7208 section 6)";
                        return null;
                    }

                    explanation = value;
                }

                continue;
            }

            var directive = ParseDirective(term, out error);
            if (directive is null)
            {
                error = $"'{term}': {error}";
                return null;
            }

            directives.Add(directive);
        }

        error = null;
        return new SpfRecord(directives, redirect, explanation);
    }

    /// <summary>The length of a modifier name (ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )) at the start of <paramref name="term"/>.</summary>
    private static int ModifierNameLength(string term)
    {
        if (term.Length == 0 || !char.IsAsciiLetter(term[0]))
        {
            return 0;
        }

        var i = 1;
        while (i < term.Length && (char.IsAsciiLetterOrDigit(term[i]) || term[i] is '-' or '_' or '.'))
        {
            i++;
        }

        return i;
    }

    private static SpfDirective? ParseDirective(string term, out string? error)
    {
        var qualifier = '+';
        var rest = term;
        if (rest.Length > 0 && rest[0] is '+' or '-' or '~' or '?')
        {
            qualifier = rest[0];
            rest = rest[1..];
        }

        var nameLength = 0;
        while (nameLength < rest.Length && char.IsAsciiLetterOrDigit(rest[nameLength]))
        {
            nameLength++;
        }

        var name = rest[..nameLength].ToLowerInvariant();
        var argument = rest[nameLength..];
        error = null;
        switch (name)
        {
            case "all":
                return argument.Length == 0 ? new SpfDirective(qualifier, SpfMechanismKind.All, null, null, 32, 128, term) : Invalid("'all' takes no argument", out error);
            case "include":
            case "exists":
                if (!argument.StartsWith(':') || argument.Length == 1)
                {
                    return Invalid($"'{name}' needs ':' and a domain", out error);
                }

                if (!SpfMacro.IsValid(argument[1..], isDomainSpec: true, out error))
                {
                    return null;
                }

                return new SpfDirective(qualifier, name == "include" ? SpfMechanismKind.Include : SpfMechanismKind.Exists, argument[1..], null, 32, 128, term);
            case "a":
            case "mx":
            case "ptr":
                return DomainMechanism(qualifier, name, argument, term, out error);
            case "ip4":
            case "ip6":
                return Network(qualifier, name == "ip6", argument, term, out error);
            default:
                return Invalid($"unknown mechanism '{name}' (RFC 7208 section 5)", out error);
        }
    }

    private static SpfDirective? DomainMechanism(char qualifier, string name, string argument, string term, out string? error)
    {
        error = null;
        var cidr4 = 32;
        var cidr6 = 128;
        if (name != "ptr")
        {
            // dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], at the end (section 5.6).
            var v6 = argument.LastIndexOf("//", StringComparison.Ordinal);
            if (v6 >= 0 && IsDigits(argument.AsSpan(v6 + 2)))
            {
                if (!TryCidr(argument[(v6 + 2)..], 128, out cidr6))
                {
                    return Invalid($"invalid IPv6 prefix length in '{term}'", out error);
                }

                argument = argument[..v6];
            }

            var v4 = argument.LastIndexOf('/');
            if (v4 >= 0 && IsDigits(argument.AsSpan(v4 + 1)))
            {
                if (!TryCidr(argument[(v4 + 1)..], 32, out cidr4))
                {
                    return Invalid($"invalid IPv4 prefix length in '{term}'", out error);
                }

                argument = argument[..v4];
            }
        }

        string? domain = null;
        if (argument.Length > 0)
        {
            if (argument[0] != ':' || argument.Length == 1)
            {
                return Invalid($"'{name}' is followed by '{argument}', not ':' and a domain", out error);
            }

            domain = argument[1..];
            if (!SpfMacro.IsValid(domain, isDomainSpec: true, out error))
            {
                return null;
            }
        }

        var kind = name switch { "a" => SpfMechanismKind.A, "mx" => SpfMechanismKind.Mx, _ => SpfMechanismKind.Ptr };
        return new SpfDirective(qualifier, kind, domain, null, cidr4, cidr6, term);
    }

    private static SpfDirective? Network(char qualifier, bool isV6, string argument, string term, out string? error)
    {
        error = null;
        if (!argument.StartsWith(':'))
        {
            return Invalid($"'{(isV6 ? "ip6" : "ip4")}' needs ':' and an address", out error);
        }

        var network = argument[1..];
        var max = isV6 ? 128 : 32;
        var cidr = max;
        var slash = network.IndexOf('/');
        if (slash >= 0)
        {
            if (!TryCidr(network[(slash + 1)..], max, out cidr))
            {
                return Invalid($"invalid prefix length in '{term}' (0 to {max})", out error);
            }

            network = network[..slash];
        }

        // ip4-network is a dotted quad (section 5.6); IPAddress.Parse would also take "10" or "10.1".
        var valid = isV6
            ? network.Contains(':') && IPAddress.TryParse(network, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6
            : IsDottedQuad(network) && IPAddress.TryParse(network, out address);
        if (!valid)
        {
            return Invalid($"'{network}' is not an {(isV6 ? "IPv6" : "IPv4")} address", out error);
        }

        return new SpfDirective(qualifier, isV6 ? SpfMechanismKind.Ip6 : SpfMechanismKind.Ip4, null, IPAddress.Parse(network), isV6 ? 32 : cidr, isV6 ? cidr : 128, term);
    }

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !IsDigits(part) || int.Parse(part, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A prefix length: decimal without leading zeros, at most <paramref name="max"/>.</summary>
    private static bool TryCidr(string text, int max, out int value)
    {
        value = 0;
        return text.Length is > 0 and <= 3
            && IsDigits(text)
            && (text.Length == 1 || text[0] != '0')
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)
            && value <= max;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static SpfDirective? Invalid(string message, out string? error)
    {
        error = message;
        return null;
    }
}

/// <summary>The values SPF macros expand to (RFC 7208 section 7.2).</summary>
internal sealed record SpfMacroContext(IPAddress? Ip, string Sender, string Domain, string? Helo);

/// <summary>SPF macro expansion (RFC 7208 section 7).</summary>
internal static class SpfMacro
{
    private const string Delimiters = ".-+,/_=";

    /// <summary>Checks the syntax of a macro-string; <c>c</c>, <c>r</c> and <c>t</c> are only allowed in explanations (section 7.2).</summary>
    public static bool IsValid(string text, bool isDomainSpec, out string? error)
    {
        var context = new SpfMacroContext(IPAddress.Loopback, "postmaster@example.invalid", "example.invalid", "example.invalid");
        return TryExpand(text, context, isDomainSpec, out _, out error);
    }

    /// <summary>Expands <paramref name="text"/>; for a domain-spec, truncates the result to 253 characters by dropping labels on the left (section 7.3).</summary>
    public static bool TryExpand(string text, SpfMacroContext context, bool isDomainSpec, out string expanded, out string? error)
    {
        var result = new StringBuilder(text.Length);
        expanded = string.Empty;
        error = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '%')
            {
                if (c is < '!' or > '~')
                {
                    error = $"character U+{(int)c:X4} is not allowed in a macro-string";
                    return false;
                }

                result.Append(c);
                continue;
            }

            if (i + 1 >= text.Length)
            {
                error = "'%' at the end (write '%%' for a percent sign)";
                return false;
            }

            var next = text[++i];
            switch (next)
            {
                case '%':
                    result.Append('%');
                    continue;
                case '_':
                    result.Append(' ');
                    continue;
                case '-':
                    result.Append("%20");
                    continue;
                case '{':
                    break;
                default:
                    error = $"'%{next}' is not a macro (RFC 7208 section 7.1)";
                    return false;
            }

            var close = text.IndexOf('}', i);
            if (close < 0)
            {
                error = "'%{' without '}'";
                return false;
            }

            if (!TryExpandOne(text[(i + 1)..close], context, isDomainSpec, result, out error))
            {
                return false;
            }

            i = close;
        }

        var value = result.ToString();
        if (isDomainSpec)
        {
            while (value.Length > 253 && value.IndexOf('.') is var dot and >= 0)
            {
                value = value[(dot + 1)..];
            }
        }

        expanded = value;
        return true;
    }

    private static bool TryExpandOne(string macro, SpfMacroContext context, bool isDomainSpec, StringBuilder result, out string? error)
    {
        error = null;
        if (macro.Length == 0)
        {
            error = "'%{}' names no macro";
            return false;
        }

        var letter = macro[0];
        var lower = char.ToLowerInvariant(letter);
        string value;
        switch (lower)
        {
            case 's':
                value = context.Sender;
                break;
            case 'l':
                value = context.Sender[..Math.Max(0, context.Sender.LastIndexOf('@'))];
                break;
            case 'o':
                value = context.Sender[(context.Sender.LastIndexOf('@') + 1)..];
                break;
            case 'd':
                value = context.Domain;
                break;
            case 'i':
                value = context.Ip is null ? "0.0.0.0" : DottedAddress(context.Ip);
                break;
            case 'p':
                // Section 7.3: "unknown" when the validated name is not available; the p macro should not be used.
                value = "unknown";
                break;
            case 'v':
                value = context.Ip is not null && IsV6(context.Ip) ? "ip6" : "in-addr";
                break;
            case 'h':
                value = context.Helo ?? context.Domain;
                break;
            case 'c' or 'r' or 't' when !isDomainSpec:
                value = lower == 't' ? DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) : "unknown";
                break;
            case 'c' or 'r' or 't':
                error = $"the macro '%{{{letter}}}' is only allowed in exp= explanations (RFC 7208 section 7.2)";
                return false;
            default:
                error = $"unknown macro letter '{letter}' in '%{{{macro}}}' (RFC 7208 section 7.2)";
                return false;
        }

        // transformers = *DIGIT [ "r" ], then delimiters.
        var i = 1;
        var digitsStart = i;
        while (i < macro.Length && char.IsAsciiDigit(macro[i]))
        {
            i++;
        }

        var keep = int.MaxValue;
        if (i > digitsStart)
        {
            if (!int.TryParse(macro.AsSpan(digitsStart, i - digitsStart), NumberStyles.None, CultureInfo.InvariantCulture, out keep) || keep == 0)
            {
                error = $"'%{{{macro}}}': the number of parts must be 1 or more (RFC 7208 section 7.3)";
                return false;
            }
        }

        var reverse = false;
        if (i < macro.Length && macro[i] is 'r' or 'R')
        {
            reverse = true;
            i++;
        }

        var delimiters = macro[i..];
        foreach (var d in delimiters)
        {
            if (!Delimiters.Contains(d, StringComparison.Ordinal))
            {
                error = $"'%{{{macro}}}': '{d}' is not a macro delimiter (one of {Delimiters})";
                return false;
            }
        }

        var parts = value.Split((delimiters.Length == 0 ? "." : delimiters).ToCharArray());
        if (reverse)
        {
            Array.Reverse(parts);
        }

        if (keep < parts.Length)
        {
            parts = parts[^keep..];
        }

        var joined = string.Join('.', parts);

        // Section 7.3: an upper-case macro letter URL-escapes the value.
        result.Append(char.IsAsciiLetterUpper(letter) ? Uri.EscapeDataString(joined) : joined);
        return true;
    }

    private static bool IsV6(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6;

    /// <summary>The i macro: IPv4 in dotted-quad form; IPv6 as 32 dot-separated nibbles (section 7.3).</summary>
    private static string DottedAddress(IPAddress address)
    {
        if (!IsV6(address))
        {
            return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        }

        var bytes = address.GetAddressBytes();
        var builder = new StringBuilder(63);
        foreach (var b in bytes)
        {
            if (builder.Length > 0)
            {
                builder.Append('.');
            }

            builder.Append("0123456789abcdef"[b >> 4]).Append('.').Append("0123456789abcdef"[b & 0xf]);
        }

        return builder.ToString();
    }
}
