using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dns;

/// <summary>The domain part of an address as the resolver uses it: A-label domain name, or address literal.</summary>
internal readonly struct MxDomain
{
    private const int MaxDomainOctets = 253; // 255 on the wire, minus the length octet of the first label and the root

    // UTS 46 with the STD3 rules: only letters, digits and hyphens survive, as RFC 5321 section 2.3.5 requires of
    // host names. IdnMapping is thread-safe for conversions once configured.
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    private MxDomain(string? name, IPAddress? literal, string? error)
    {
        Name = name;
        Literal = literal;
        Error = error;
    }

    /// <summary>The lower-case A-label name without the trailing dot, or the literal as written (<c>[192.0.2.1]</c>); null on error.</summary>
    public string? Name { get; }

    /// <summary>The address of an address literal.</summary>
    public IPAddress? Literal { get; }

    /// <summary>Why the input is not a domain; null when it is one.</summary>
    public string? Error { get; }

    /// <summary>Reads <paramref name="input"/>. Never throws: recipient domains are message data.</summary>
    public static MxDomain Parse(string input)
    {
        if (input.Length == 0)
        {
            return Invalid("The domain is empty.");
        }

        if (input[0] == '[')
        {
            return ParseLiteral(input);
        }

        var name = input;
        if (name.Length > 1 && name[^1] == '.')
        {
            name = name[..^1]; // the root label: "example.com." is "example.com"
        }

        string ascii;
        if (Ascii.IsValid(name))
        {
            if (!SmtpSyntax.IsAsciiDomain(name))
            {
                return Invalid($"'{Printable(input)}' is not a domain name: letters, digits and hyphens in dot-separated labels of 1 to 63 characters, not starting or ending with a hyphen.");
            }

            ascii = name.ToLowerInvariant();
            if (ascii.Contains("xn--", StringComparison.Ordinal))
            {
                // An A-label must decode to a valid U-label (RFC 5890 section 2.3.2.1); IdnMapping checks the Punycode.
                try
                {
                    _ = Idn.GetUnicode(ascii);
                }
                catch (ArgumentException e)
                {
                    return Invalid($"'{Printable(input)}' has an invalid A-label: {e.Message}");
                }
            }
        }
        else
        {
            try
            {
                ascii = Idn.GetAscii(name).ToLowerInvariant();
            }
            catch (ArgumentException e)
            {
                return Invalid($"'{Printable(input)}' is not a valid internationalised domain name (UTS 46): {e.Message}");
            }

            if (!SmtpSyntax.IsAsciiDomain(ascii))
            {
                return Invalid($"'{Printable(input)}' does not convert to a valid domain name (its A-label form is '{ascii}').");
            }
        }

        if (ascii.Length > MaxDomainOctets)
        {
            return Invalid($"'{Printable(input)}' is longer than a domain name may be ({MaxDomainOctets} characters).");
        }

        if (IsDottedQuad(ascii))
        {
            // "user@192.0.2.1" is not an address: RFC 5321 section 4.1.3 writes it "user@[192.0.2.1]".
            return Invalid($"'{Printable(input)}' is an IP address, not a domain name; an address literal is written [{ascii}].");
        }

        return new MxDomain(ascii, null, null);
    }

    /// <summary>True for four dot-separated decimal numbers, which DNS would take as a name and a mail server as an address.</summary>
    public static bool IsDottedQuad(ReadOnlySpan<char> name)
    {
        var dots = 0;
        foreach (var c in name)
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

        return dots == 3 && IPAddress.TryParse(name, out var address) && address.AddressFamily == AddressFamily.InterNetwork;
    }

    /// <summary>The input made safe to put in a message: control characters escaped, cut at 100 characters.</summary>
    public static string Printable(string input)
    {
        var span = input.AsSpan(0, Math.Min(input.Length, 100));
        var text = new StringBuilder(span.Length + 8);
        foreach (var c in span)
        {
            if (char.IsControl(c))
            {
                text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }

        return input.Length > 100 ? text.Append('…').ToString() : text.ToString();
    }

    private static MxDomain ParseLiteral(string input)
    {
        if (!SmtpSyntax.IsAddressLiteral(input))
        {
            return Invalid($"'{Printable(input)}' is not an address literal DirectMail can use: [192.0.2.1] or [IPv6:2001:db8::1] (RFC 5321 section 4.1.3).");
        }

        var inner = input.AsSpan(1, input.Length - 2);
        var isV6 = inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase);
        var address = IPAddress.Parse(isV6 ? inner[5..] : inner);

        // One canonical spelling, so the same literal is the same target whatever its case or zero-compression.
        var canonical = isV6 ? $"[IPv6:{address}]" : $"[{address}]";
        return new MxDomain(canonical, address, null);
    }

    private static MxDomain Invalid(string error) => new(null, null, error);
}
