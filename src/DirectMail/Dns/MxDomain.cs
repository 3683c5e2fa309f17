using System;
using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dns;

/// <summary>The domain part of an address as the resolver uses it: A-label domain name, or address literal.</summary>
internal readonly struct MxDomain
{
    private const int MaxDomainOctets = 253; // 255 on the wire, minus the length octet of the first label and the root

    private static readonly SearchValues<char> DigitsAndDots = SearchValues.Create("0123456789.");

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

        var name = DomainName.WithoutRootDot(input);

        string ascii;
        if (Ascii.IsValid(name))
        {
            if (!SmtpSyntax.IsAsciiDomain(name))
            {
                return Invalid($"'{Printable(input)}' is not a domain name: letters, digits and hyphens in dot-separated labels of 1 to 63 characters, not starting or ending with a hyphen.");
            }

            ascii = name.ToLowerInvariant();
            if (DomainName.CheckALabels(ascii) is { } aLabelError)
            {
                return Invalid($"'{Printable(input)}' has an invalid A-label: {aLabelError}");
            }
        }
        else
        {
            try
            {
                ascii = DomainName.ToAscii(name).ToLowerInvariant();
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

        if (!ascii.AsSpan().ContainsAnyExcept(DigitsAndDots))
        {
            // "010.0.0.1", "127.1" or "2130706433": no top-level domain is all digits, and inet_aton would read these
            // as addresses (octal, or with parts left out), so they are neither a name nor an address.
            return Invalid($"'{Printable(input)}' is all digits: not a domain name, and not an address either; an IPv4 address literal is four decimal numbers in brackets, such as [192.0.2.1].");
        }

        return new MxDomain(ascii, null, null);
    }

    /// <summary>
    /// True for four dot-separated decimal numbers from 0 to 255 without leading zeros, which DNS would take as a
    /// name and a mail server as an address. Only this spelling counts: <see cref="IPAddress.Parse(string)"/> reads it
    /// in decimal, where it would read "010.0.0.1" as octal (8.0.0.1).
    /// </summary>
    public static bool IsDottedQuad(ReadOnlySpan<char> name)
    {
        Span<byte> octets = stackalloc byte[4];
        if (!SmtpSyntax.TryParseIPv4(name, octets))
        {
            return false;
        }

        for (var i = 0; i < name.Length - 1; i++)
        {
            if (name[i] == '0' && (i == 0 || name[i - 1] == '.') && name[i + 1] != '.')
            {
                return false;
            }
        }

        return true;
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
        // The address comes from the numbers read by the RFC 5321 grammar, never from IPAddress.Parse, which would
        // take "[0127.0.0.1]" as octal (87.0.0.1) and "[IPv6:[::1]:25]" or a zone index as an address.
        if (!SmtpSyntax.TryParseAddressLiteral(input, out var address, out var error))
        {
            return Invalid($"'{Printable(input)}' is not an address literal DirectMail can use: {error}");
        }

        // One canonical spelling, so the same literal is the same target whatever its case, zero-compression or leading zeros.
        return new MxDomain(SmtpSyntax.FormatAddressLiteral(address), address, null);
    }

    private static MxDomain Invalid(string error) => new(null, null, error);
}
