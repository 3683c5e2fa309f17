using System;
using System.Globalization;
using System.Text;

namespace DirectMail.Smtp;

/// <summary>
/// The one rule for the form of a domain name, wherever DirectMail sends, looks up, compares or signs one: A-labels,
/// lower case, without the root dot. Unicode names are converted by UTS 46 ToASCII in one configuration.
/// </summary>
internal static class DomainName
{
    // UseStd3AsciiRules: the labels of a host name are letters, digits and hyphens (RFC 5321 section 2.3.5, RFC 5890
    // section 2.3.1), which is what UTS 46 section 4 checks with UseSTD3ASCIIRules. AllowUnassigned false: a lookup
    // must not convert unassigned code points (RFC 5891 section 5.4). IdnMapping is thread-safe once configured.
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>
    /// The A-label, lower-case form of <paramref name="name"/> without its root dot (<c>Bücher.Example.</c> is
    /// <c>xn--bcher-kva.example</c>): the form domains are compared, grouped, looked up and signed in.
    /// </summary>
    /// <exception cref="ArgumentException">UTS 46 refuses the name (empty label, a label over 63 octets, a leading or trailing hyphen, a character outside letters, digits and hyphens, invalid Punycode).</exception>
    public static string Normalize(string name) => Idn.GetAscii(WithoutRootDot(name)).ToLowerInvariant();

    /// <summary>
    /// <paramref name="name"/> with its Unicode labels converted to A-labels for the wire; an ASCII name is returned
    /// as it is (its case kept; <see cref="SmtpSyntax.IsAsciiDomain"/> checks it). The root dot is kept.
    /// </summary>
    /// <exception cref="ArgumentException">UTS 46 refuses the name.</exception>
    public static string ToAscii(string name) => Ascii.IsValid(name) ? name : Idn.GetAscii(name);

    /// <summary>
    /// Checks that every A-label (<c>xn--</c>) of an ASCII name decodes to a valid U-label (RFC 5890 section 2.3.2.1);
    /// null when it does, or when there is none.
    /// </summary>
    public static string? CheckALabels(string ascii)
    {
        if (!ascii.Contains("xn--", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            _ = Idn.GetUnicode(ascii);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary><paramref name="name"/> without one trailing root dot: <c>example.com.</c> names <c>example.com</c>.</summary>
    public static string WithoutRootDot(string name) => name.Length > 1 && name[^1] == '.' ? name[..^1] : name;
}
