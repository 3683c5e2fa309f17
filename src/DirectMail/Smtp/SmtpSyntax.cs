using System;
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

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

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
            if (!IsAddressLiteral(domain))
            {
                throw new ArgumentException($"'{mailbox}' has an invalid address literal.", paramName);
            }

            wireDomain = domain;
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
                wireDomain = Idn.GetAscii(domain);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"'{mailbox}' has an invalid internationalised domain: {e.Message}", paramName, e);
            }
        }

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
        if (domain.Length is 0 or > 253)
        {
            return false;
        }

        if (domain[^1] == '.')
        {
            domain = domain[..^1]; // a trailing root dot is tolerated
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

    /// <summary>True for <c>[IPv4]</c>, <c>[IPv6:addr]</c> (RFC 5321 section 4.1.3).</summary>
    public static bool IsAddressLiteral(ReadOnlySpan<char> literal)
    {
        if (literal.Length < 3 || literal[0] != '[' || literal[^1] != ']')
        {
            return false;
        }

        var inner = literal[1..^1];
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(inner[5..], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && inner[5..].IndexOf('%') < 0;
        }

        // IPv4: exactly four dotted decimal parts (IPAddress.TryParse also accepts "1" or "0x1").
        var dots = 0;
        foreach (var c in inner)
        {
            if (c == '.')
            {
                dots++;
            }
            else if ((uint)(c - '0') > 9)
            {
                return false;
            }
        }

        return dots == 3 && IPAddress.TryParse(inner, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork;
    }

    /// <summary>Throws when <paramref name="value"/> holds CR, LF, NUL or another control character.</summary>
    public static void ThrowOnControl(string value, string paramName, string what)
    {
        var index = value.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (index < 0)
        {
            index = value.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        }

        if (index >= 0)
        {
            throw new ArgumentException(
                $"The {what} contains the control character U+{(int)value[index]:X4} at position {index}; CR, LF and other controls are refused because they could end the SMTP command and inject another.",
                paramName);
        }
    }
}
