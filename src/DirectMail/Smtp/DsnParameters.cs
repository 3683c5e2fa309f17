using System;
using System.Globalization;
using System.Text;

namespace DirectMail.Smtp;

/// <summary>
/// The wire forms of the DSN parameters (RFC 3461 section 4, RFC 6533 section 3): xtext, NOTIFY, ORCPT, ENVID, and
/// their limits. Computed once per envelope, never per transaction.
/// </summary>
internal static class DsnParameters
{
    /// <summary>RFC 3461 section 4.4: an ENVID is at most 100 characters.</summary>
    public const int MaxEnvelopeIdLength = 100;

    /// <summary>RFC 3461 section 4.2: an ORCPT parameter value is at most 500 characters.</summary>
    public const int MaxOriginalRecipientLength = 500;

    /// <summary>
    /// Checks an envelope id (printable US-ASCII, RFC 3461 section 4.4) and returns its xtext form.
    /// </summary>
    public static string EncodeEnvelopeId(string envelopeId, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(envelopeId, paramName);
        foreach (var c in envelopeId)
        {
            if (c < 0x20 || c > 0x7E)
            {
                throw new ArgumentException("A DSN envelope id (ENVID) holds printable US-ASCII characters only (RFC 3461 section 4.4).", paramName);
            }
        }

        var xtext = Xtext(envelopeId);
        if (xtext.Length > MaxEnvelopeIdLength)
        {
            throw new ArgumentException($"A DSN envelope id (ENVID) is at most {MaxEnvelopeIdLength} characters as sent (RFC 3461 section 4.4); this one is {xtext.Length} in xtext.", paramName);
        }

        return xtext;
    }

    /// <summary>The NOTIFY parameter, with its leading space, or null for <see cref="DsnNotify.Default"/>.</summary>
    public static string? Notify(DsnNotify notify, string paramName)
    {
        if (notify == DsnNotify.Default)
        {
            return null;
        }

        if ((notify & ~(DsnNotify.Never | DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay)) != 0)
        {
            throw new ArgumentOutOfRangeException(paramName, notify, "Not a DSN NOTIFY value.");
        }

        if ((notify & DsnNotify.Never) != 0)
        {
            if (notify != DsnNotify.Never)
            {
                throw new ArgumentException("NOTIFY=NEVER cannot be combined with SUCCESS, FAILURE or DELAY (RFC 3461 section 4.1).", paramName);
            }

            return " NOTIFY=NEVER";
        }

        var text = new StringBuilder(" NOTIFY=", 32);
        if ((notify & DsnNotify.Success) != 0)
        {
            text.Append("SUCCESS,");
        }

        if ((notify & DsnNotify.Failure) != 0)
        {
            text.Append("FAILURE,");
        }

        if ((notify & DsnNotify.Delay) != 0)
        {
            text.Append("DELAY,");
        }

        text.Length--;
        return text.ToString();
    }

    /// <summary>
    /// The ORCPT parameter with its leading space: <c>rfc822;</c> and xtext for an ASCII address; for one with
    /// non-ASCII characters <c>utf-8;</c> and the utf-8-addr-unitext form when the transaction uses SMTPUTF8, the
    /// utf-8-addr-xtext form otherwise (RFC 6533 section 3).
    /// </summary>
    public static (string Ascii, string? Utf8) OriginalRecipient(string address, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(address, paramName);
        SmtpSyntax.ThrowOnControl(address, paramName, "original recipient (ORCPT)");
        var ascii = true;
        foreach (var c in address)
        {
            if (c == ' ')
            {
                throw new ArgumentException("An original recipient (ORCPT) is an address without spaces.", paramName);
            }

            ascii &= c < 0x80;
        }

        if (address.IndexOf('@') <= 0)
        {
            throw new ArgumentException("An original recipient (ORCPT) is an address: local-part@domain.", paramName);
        }

        string plain;
        string? utf8 = null;
        if (ascii)
        {
            plain = " ORCPT=rfc822;" + Xtext(address);
        }
        else
        {
            plain = " ORCPT=utf-8;" + EmbeddedUnicode(address, keepNonAscii: false);
            utf8 = " ORCPT=utf-8;" + EmbeddedUnicode(address, keepNonAscii: true);
        }

        if (plain.Length - 7 > MaxOriginalRecipientLength || (utf8 is not null && utf8.Length - 7 > MaxOriginalRecipientLength))
        {
            throw new ArgumentException($"An original recipient (ORCPT) is at most {MaxOriginalRecipientLength} characters as sent (RFC 3461 section 4.2).", paramName);
        }

        return (plain, utf8);
    }

    /// <summary>xtext (RFC 3461 section 4): "!" to "~" except "+" and "=" as they are, every other octet as "+HH".</summary>
    public static string Xtext(string value)
    {
        var clean = true;
        foreach (var c in value)
        {
            if (c < '!' || c > '~' || c == '+' || c == '=')
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.Value >= '!' && rune.Value <= '~' && rune.Value != '+' && rune.Value != '=')
            {
                text.Append((char)rune.Value);
                continue;
            }

            var n = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < n; i++)
            {
                text.Append('+').Append(utf8[i].ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// RFC 6533 section 3: QCHAR (printable ASCII but "+", "=", "\") as it is, every other character as
    /// <c>\x{HEX}</c>; with <paramref name="keepNonAscii"/>, non-ASCII characters stay as they are (utf-8-addr-unitext).
    /// </summary>
    private static string EmbeddedUnicode(string value, bool keepNonAscii)
    {
        var text = new StringBuilder(value.Length + 16);
        foreach (var rune in value.EnumerateRunes())
        {
            var v = rune.Value;
            if ((v >= '!' && v <= '~' && v != '+' && v != '=' && v != '\\') || (keepNonAscii && v >= 0x80))
            {
                text.Append(rune.ToString());
            }
            else
            {
                text.Append("\\x{").Append(v.ToString("X", CultureInfo.InvariantCulture)).Append('}');
            }
        }

        return text.ToString();
    }
}
