using System;
using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// SASLprep (RFC 4013), as SCRAM applies it to user names and passwords: non-ASCII spaces become spaces, characters
/// "commonly mapped to nothing" go, the result is NFKC; control characters are refused. Printable ASCII, what nearly
/// every password is, passes through unchanged.
/// </summary>
internal static class SaslPrep
{
    public static string Prepare(string value)
    {
        var ascii = true;
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                ascii = false;
                break;
            }
        }

        if (ascii)
        {
            return value;
        }

        var mapped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (IsNonAsciiSpace(c))
            {
                mapped.Append(' ');
            }
            else if (!IsMappedToNothing(c))
            {
                mapped.Append(c);
            }
        }

        var normalized = mapped.ToString().Normalize(NormalizationForm.FormKC);
        foreach (var c in normalized)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException("A SCRAM user name or password must not contain control characters (RFC 4013 section 2.3).");
            }
        }

        return normalized;
    }

    // RFC 3454 table C.1.2.
    private static bool IsNonAsciiSpace(char c) => c is '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200B') or '\u202F' or '\u205F' or '\u3000';

    // RFC 3454 table B.1.
    private static bool IsMappedToNothing(char c) => c is '\u00AD' or '\u034F' or '\u1806' or (>= '\u180B' and <= '\u180D') or (>= '\u200B' and <= '\u200D') or '\u2060' or (>= '\uFE00' and <= '\uFE0F') or '\uFEFF';
}
