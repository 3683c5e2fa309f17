using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DirectMail.Smtp;

/// <summary>
/// The RFC 5321 section 4.1.2 grammar for what goes into commands: the EHLO name and the mailboxes of MAIL and
/// RCPT. Everything a caller gives is checked here before a byte is sent, so that no input can add a command
/// (CR/LF injection) or change the meaning of one.
/// </summary>
internal static class SmtpSyntax
{
    private const int MaxLocalPartOctets = 64;   // RFC 5321 section 4.5.3.1.1
    private const int MaxDomainOctets = 255;     // RFC 5321 section 4.5.3.1.2
    private const int MaxPathOctets = 256;       // RFC 5321 section 4.5.3.1.3
    private const int MaxLabelOctets = 63;

    /// <summary>Throws unless <paramref name="name"/> is a domain name or an address literal.</summary>
    public static void ValidateHeloName(string? name, string paramName)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("The EHLO name is required: the host's fully qualified domain name or an address literal such as [192.0.2.1].", paramName);
        }

        ThrowOnControl(name, paramName, "EHLO name");
        if (name[0] == '[')
        {
            if (!IsAddressLiteral(name))
            {
                throw new ArgumentException($"The EHLO name '{name}' is not a valid address literal ([192.0.2.1] or [IPv6:2001:db8::1]).", paramName);
            }

            return;
        }

        if (!IsAsciiDomain(name))
        {
            throw new ArgumentException($"The EHLO name '{name}' is not a domain name: letters, digits and hyphens in dot-separated labels of at most 63 characters, not starting or ending with a hyphen.", paramName);
        }
    }

    /// <summary>
    /// Checks a mailbox for MAIL FROM or RCPT TO and returns the form that goes on the wire: a Unicode domain is
    /// converted to A-labels, so only a non-ASCII local part needs SMTPUTF8.
    /// </summary>
    /// <param name="mailbox">The address, without angle brackets. Empty only for a null reverse path.</param>
    /// <param name="paramName">The argument to name in the exception.</param>
    /// <param name="allowEmpty">True for the reverse path, where <c>&lt;&gt;</c> (empty) is the bounce sender.</param>
    /// <param name="needsSmtpUtf8">True when the address can only be sent with SMTPUTF8.</param>
    public static string NormalizeMailbox(string? mailbox, string paramName, bool allowEmpty, out bool needsSmtpUtf8)
    {
        needsSmtpUtf8 = false;
        if (mailbox is null)
        {
            throw new ArgumentNullException(paramName);
        }

        if (mailbox.Length == 0)
        {
            return allowEmpty ? mailbox : throw new ArgumentException("A recipient address is empty.", paramName);
        }

        // First: a control character could end the command and start another (CRLF injection).
        ThrowOnControl(mailbox, paramName, "address");

        var at = mailbox.LastIndexOf('@');
        if (at <= 0 || at == mailbox.Length - 1)
        {
            throw new ArgumentException($"'{mailbox}' is not an address: it needs a local part, '@' and a domain.", paramName);
        }

        var local = mailbox.AsSpan(0, at);
        var domain = mailbox.Substring(at + 1);
        var localIsAscii = System.Text.Ascii.IsValid(local);
        ValidateLocalPart(local, mailbox, paramName);

        string wireDomain;
        if (domain[0] == '[')
        {
            if (!TryParseAddressLiteral(domain, out var address, out var error))
            {
                throw new ArgumentException($"'{mailbox}' has an invalid address literal: {error}", paramName);
            }

            // One spelling: "[027.0.0.1]" goes as "[27.0.0.1]", which no receiver can read as octal.
            wireDomain = FormatAddressLiteral(address);
            if (wireDomain.Equals(domain, StringComparison.Ordinal))
            {
                wireDomain = domain;
            }
        }
        else if (System.Text.Ascii.IsValid(domain))
        {
            if (!IsAsciiDomain(domain))
            {
                throw new ArgumentException($"'{mailbox}' has an invalid domain: letters, digits and hyphens in dot-separated labels.", paramName);
            }

            wireDomain = domain;
        }
        else
        {
            try
            {
                wireDomain = DomainName.ToAscii(domain);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"'{mailbox}' has an invalid internationalised domain: {e.Message}", paramName, e);
            }
        }

        // The root label: "example.com." names "example.com", but a domain in MAIL FROM, RCPT TO (RFC 5321 section
        // 4.1.2) or a header (RFC 5322 dot-atom) has no trailing dot; strict servers refuse it, and the same
        // mailbox written both ways must be one recipient.
        wireDomain = DomainName.WithoutRootDot(wireDomain);

        var utf8Local = localIsAscii ? local.Length : System.Text.Encoding.UTF8.GetByteCount(local);
        if (utf8Local > MaxLocalPartOctets)
        {
            throw new ArgumentException($"'{mailbox}' has a local part over {MaxLocalPartOctets} octets (RFC 5321 section 4.5.3.1.1).", paramName);
        }

        if (wireDomain.Length > MaxDomainOctets)
        {
            throw new ArgumentException($"'{mailbox}' has a domain over {MaxDomainOctets} octets.", paramName);
        }

        if (utf8Local + 1 + wireDomain.Length + 2 > MaxPathOctets)
        {
            throw new ArgumentException($"'{mailbox}' is longer than a path may be ({MaxPathOctets} octets with its angle brackets, RFC 5321 section 4.5.3.1.3).", paramName);
        }

        needsSmtpUtf8 = !localIsAscii;
        return ReferenceEquals(wireDomain, domain) ? mailbox : string.Concat(local, "@", wireDomain);
    }

    private static void ValidateLocalPart(ReadOnlySpan<char> local, string mailbox, string paramName)
    {
        if (local[0] == '"')
        {
            // Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 section 4.1.2)
            if (local.Length < 2 || local[^1] != '"')
            {
                throw new ArgumentException($"'{mailbox}' has an unterminated quoted local part.", paramName);
            }

            for (var i = 1; i < local.Length - 1; i++)
            {
                var c = local[i];
                if (c == '\\')
                {
                    if (++i >= local.Length - 1 || local[i] < 32 || local[i] == 127)
                    {
                        throw new ArgumentException($"'{mailbox}' has an invalid escape in its quoted local part.", paramName);
                    }
                }
                else if (c == '"')
                {
                    throw new ArgumentException($"'{mailbox}' has an unescaped quote in its local part.", paramName);
                }
            }

            return;
        }

        // Dot-string = Atom *("." Atom), atext as RFC 5322 plus UTF-8 for RFC 6531.
        var previousDot = true;
        foreach (var c in local)
        {
            if (c == '.')
            {
                if (previousDot)
                {
                    throw new ArgumentException($"'{mailbox}' has an empty part between dots in its local part; quote it if that is really the address.", paramName);
                }

                previousDot = true;
                continue;
            }

            previousDot = false;
            if (c < 128 && !IsAtext(c))
            {
                throw new ArgumentException($"'{mailbox}' has '{c}' in its local part, which needs quoting.", paramName);
            }
        }

        if (previousDot)
        {
            throw new ArgumentException($"'{mailbox}' ends its local part with a dot.", paramName);
        }
    }

    private static bool IsAtext(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '/' or '=' or '?' or '^' or '_' or '`' or '{' or '|' or '}' or '~';

    /// <summary>True for a domain of LDH labels (RFC 5321 section 4.1.2, sub-domain).</summary>
    public static bool IsAsciiDomain(ReadOnlySpan<char> domain)
    {
        if (domain.Length > 0 && domain[^1] == '.')
        {
            domain = domain[..^1]; // a trailing root dot is tolerated (callers remove it)
        }

        if (domain.Length is 0 or > 253)
        {
            return false;
        }

        var labelLength = 0;
        var previous = '.';
        foreach (var c in domain)
        {
            if (c == '.')
            {
                if (labelLength == 0 || previous == '-')
                {
                    return false;
                }

                labelLength = 0;
                previous = c;
                continue;
            }

            var isLetDig = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9');
            if (!isLetDig && (c != '-' || labelLength == 0))
            {
                return false;
            }

            if (++labelLength > MaxLabelOctets)
            {
                return false;
            }

            previous = c;
        }

        return labelLength > 0 && previous != '-';
    }

    /// <summary>True for an address literal DirectMail can use (RFC 5321 section 4.1.3); see <see cref="TryParseAddressLiteral"/>.</summary>
    public static bool IsAddressLiteral(ReadOnlySpan<char> literal) => TryParseAddressLiteral(literal, out _, out _);

    /// <summary>
    /// Reads an address literal exactly as RFC 5321 section 4.1.3 writes it: <c>[IPv4-address-literal]</c>, four
    /// decimal numbers of one to three digits, each 0 to 255 (a leading zero is decimal, never octal), or
    /// <c>[IPv6:IPv6-addr]</c>, the full, compressed and IPv4-suffixed forms of its grammar, without zone, port or
    /// brackets. A General-address-literal (<c>[tag:content]</c>) is refused: IPv6 is the only registered tag.
    /// </summary>
    /// <param name="literal">The literal with its brackets.</param>
    /// <param name="address">The address, built from the numbers read (not from a lenient parser).</param>
    /// <param name="error">Why the literal is refused; null when it is read.</param>
    public static bool TryParseAddressLiteral(ReadOnlySpan<char> literal, [NotNullWhen(true)] out IPAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (literal.Length < 3 || literal[0] != '[' || literal[^1] != ']')
        {
            error = "an address literal is written in brackets: [192.0.2.1] or [IPv6:2001:db8::1].";
            return false;
        }

        var inner = literal[1..^1];
        var colon = inner.IndexOf(':');
        if (colon < 0)
        {
            Span<byte> v4 = stackalloc byte[4];
            if (!TryParseIPv4(inner, v4))
            {
                error = "an IPv4 address literal is four decimal numbers from 0 to 255 of one to three digits, separated by dots (RFC 5321 section 4.1.3).";
                return false;
            }

            address = new IPAddress(v4);
            error = null;
            return true;
        }

        // Standardized-tag ":" 1*dcontent; the tag is case-insensitive like every ABNF string.
        var tag = inner[..colon];
        if (!tag.Equals("IPv6", StringComparison.OrdinalIgnoreCase))
        {
            error = IsLdhString(tag)
                ? $"the tag '{tag}' is not one mail can be delivered to: IPv6 is the only registered address literal tag (RFC 5321 section 4.1.3)."
                : "an address literal is [192.0.2.1] or [IPv6:2001:db8::1], without a port (RFC 5321 section 4.1.3).";
            return false;
        }

        Span<byte> v6 = stackalloc byte[16];
        if (!TryParseIPv6(inner[(colon + 1)..], v6))
        {
            error = "an IPv6 address literal is [IPv6:] and an address in the full, '::'-compressed or IPv4-suffixed form of RFC 5321 section 4.1.3, without zone, port or brackets.";
            return false;
        }

        address = new IPAddress(v6);
        error = null;
        return true;
    }

    /// <summary>The one spelling of an address literal: <c>[192.0.2.1]</c> or <c>[IPv6:2001:db8::1]</c> (RFC 5952).</summary>
    public static string FormatAddressLiteral(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[IPv6:{address}]" : $"[{address}]";

    /// <summary>Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig (RFC 5321 section 4.1.2), the form of a Standardized-tag.</summary>
    private static bool IsLdhString(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text[^1] == '-')
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, a decimal value from 0 to 255.</summary>
    internal static bool TryParseIPv4(ReadOnlySpan<char> text, Span<byte> octets)
    {
        var part = 0;
        var value = 0;
        var digits = 0;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (digits == 0 || part == 3)
                {
                    return false;
                }

                octets[part++] = (byte)value;
                value = 0;
                digits = 0;
                continue;
            }

            if ((uint)(c - '0') > 9 || ++digits > 3)
            {
                return false;
            }

            value = (value * 10) + (c - '0');
            if (value > 255)
            {
                return false;
            }
        }

        if (digits == 0 || part != 3)
        {
            return false;
        }

        octets[3] = (byte)value;
        return true;
    }

    /// <summary>
    /// IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp: groups of one to four hex digits; without
    /// "::" eight groups, or six and an IPv4 address; with one "::" (at least two zero groups) at most six groups,
    /// or at most four and an IPv4 address at the end.
    /// </summary>
    private static bool TryParseIPv6(ReadOnlySpan<char> text, Span<byte> address)
    {
        Span<ushort> head = stackalloc ushort[8];
        Span<ushort> tail = stackalloc ushort[8];
        var headCount = 0;
        var tailCount = 0;
        var compressed = false;
        var hasIPv4 = false;
        Span<byte> v4 = stackalloc byte[4];

        var i = 0;
        if (text.StartsWith("::"))
        {
            compressed = true;
            i = 2;
            if (i == text.Length)
            {
                address.Clear();
                return true; // "::"
            }
        }
        else if (text.IsEmpty || text[0] == ':')
        {
            return false;
        }

        while (true)
        {
            // One group, or the IPv4 address that may end the text.
            var end = i;
            while (end < text.Length && text[end] != ':')
            {
                end++;
            }

            var item = text[i..end];
            if (item.Contains('.'))
            {
                if (end != text.Length || !TryParseIPv4(item, v4))
                {
                    return false;
                }

                hasIPv4 = true;
                break;
            }

            if (item.IsEmpty || item.Length > 4 || !ushort.TryParse(item, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var group))
            {
                return false;
            }

            if (headCount + tailCount == 8)
            {
                return false;
            }

            if (compressed)
            {
                tail[tailCount++] = group;
            }
            else
            {
                head[headCount++] = group;
            }

            if (end == text.Length)
            {
                break;
            }

            // ":" before the next group, or "::" (once, and not at the very end unless it ends the text).
            if (end + 1 < text.Length && text[end + 1] == ':')
            {
                if (compressed)
                {
                    return false;
                }

                compressed = true;
                i = end + 2;
                if (i == text.Length)
                {
                    break;
                }

                continue;
            }

            i = end + 1;
            if (i == text.Length)
            {
                return false; // a single trailing ':'
            }
        }

        var groups = headCount + tailCount;
        var maxGroups = compressed ? (hasIPv4 ? 4 : 6) : (hasIPv4 ? 6 : 8);
        if (compressed ? groups > maxGroups : groups != maxGroups)
        {
            return false;
        }

        address.Clear();
        for (var g = 0; g < headCount; g++)
        {
            address[2 * g] = (byte)(head[g] >> 8);
            address[(2 * g) + 1] = (byte)head[g];
        }

        var tailStart = 16 - (hasIPv4 ? 4 : 0) - (2 * tailCount);
        for (var g = 0; g < tailCount; g++)
        {
            address[tailStart + (2 * g)] = (byte)(tail[g] >> 8);
            address[tailStart + (2 * g) + 1] = (byte)tail[g];
        }

        if (hasIPv4)
        {
            v4.CopyTo(address[12..]);
        }

        return true;
    }

    /// <summary>
    /// C0 controls (TAB, CR and LF included), DEL, C1 controls (NEL included), and the Unicode line and paragraph
    /// separators U+2028 and U+2029: any of them could end an SMTP command or a header field to some parser, and
    /// start another (injection). One set for commands and headers alike.
    /// </summary>
    internal static readonly SearchValues<char> Controls = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"
        + "\u007F\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F\u2028\u2029");

    /// <summary>Throws when <paramref name="value"/> holds CR, LF, NUL, another control character or a Unicode line or paragraph separator.</summary>
    public static void ThrowOnControl(string value, string paramName, string what)
    {
        var index = value.AsSpan().IndexOfAny(Controls);
        if (index >= 0)
        {
            throw new ArgumentException(
                $"The {what} contains the {(value[index] >= '\u2028' ? "line or paragraph separator" : "control character")} U+{(int)value[index]:X4} at position {index}; CR, LF, other controls and line separators are refused because they could end the SMTP command and inject another.",
                paramName);
        }
    }
}
