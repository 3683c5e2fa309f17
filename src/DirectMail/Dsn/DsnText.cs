using System;
using System.Globalization;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>Values of delivery status fields and bounce text: addresses with their type, xtext, RFC 6533 escapes, status codes in text.</summary>
internal static class DsnText
{
    /// <summary>
    /// An address field's value (<c>rfc822; a@b</c>, <c>utf-8; ...</c>): the address, decoded. For rfc822, <c>+HH</c>
    /// sequences are xtext only when they stand for what xtext must encode (a space, a control, <c>+</c>, <c>=</c>, or
    /// valid UTF-8), so an address such as <c>list+AB@example.org</c> stays as it is. For utf-8, <c>\x{HEX}</c> too.
    /// </summary>
    public static string? Address(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var semicolon = value.IndexOf(';');
        var type = semicolon < 0 ? ReadOnlySpan<char>.Empty : value.AsSpan(0, semicolon).Trim();
        var address = (semicolon < 0 ? value : value[(semicolon + 1)..]).Trim();
        if (address.Length >= 2 && address[0] == '<' && address[^1] == '>')
        {
            address = address[1..^1];
        }

        if (address.Length == 0)
        {
            return null;
        }

        address = Xtext(address);
        if (type.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            address = EmbeddedUnicode(address);
        }

        return address;
    }

    /// <summary>Decodes xtext <c>+HH</c> where it is unambiguous (see <see cref="Address"/>).</summary>
    public static string Xtext(string value)
    {
        var plus = value.IndexOf('+');
        if (plus < 0)
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        var bytes = new byte[4];
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == '+' && TryHexByte(value, i + 1, out var b))
            {
                if (b < 0x80)
                {
                    if (b <= ' ' || b == 0x7F || b == '+' || b == '=')
                    {
                        text.Append((char)b);
                        i += 3;
                        continue;
                    }
                }
                else
                {
                    // A UTF-8 sequence: all its octets as +HH.
                    var length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
                    var ok = length > 0;
                    bytes[0] = b;
                    for (var k = 1; ok && k < length; k++)
                    {
                        ok = i + (3 * k) < value.Length && value[i + (3 * k)] == '+' && TryHexByte(value, i + (3 * k) + 1, out bytes[k]) && (bytes[k] & 0xC0) == 0x80;
                    }

                    if (ok && Rune.DecodeFromUtf8(bytes.AsSpan(0, length), out var rune, out _) == System.Buffers.OperationStatus.Done)
                    {
                        text.Append(rune.ToString());
                        i += 3 * length;
                        continue;
                    }
                }
            }

            text.Append(value[i]);
            i++;
        }

        return text.ToString();
    }

    private static bool TryHexByte(string value, int at, out byte b)
    {
        b = 0;
        return at + 2 <= value.Length && IsUpperHex(value[at]) && IsUpperHex(value[at + 1])
            && byte.TryParse(value.AsSpan(at, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out b);
    }

    private static bool IsUpperHex(char c) => char.IsAsciiDigit(c) || c is >= 'A' and <= 'F';

    /// <summary>RFC 6533 section 3: <c>\x{HEX}</c> stands for the character of that code point.</summary>
    public static string EmbeddedUnicode(string value)
    {
        var escape = value.IndexOf("\\x{", StringComparison.Ordinal);
        if (escape < 0)
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == '\\' && i + 3 < value.Length && value[i + 1] == 'x' && value[i + 2] == '{')
            {
                var close = value.IndexOf('}', i + 3);
                if (close > i + 3 && close - i - 3 <= 6
                    && int.TryParse(value.AsSpan(i + 3, close - i - 3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var cp)
                    && Rune.IsValid(cp))
                {
                    text.Append(new Rune(cp).ToString());
                    i = close + 1;
                    continue;
                }
            }

            text.Append(value[i]);
            i++;
        }

        return text.ToString();
    }

    /// <summary>A typed value without its type: <c>dns; mx.example</c> gives <c>mx.example</c>, <c>smtp; 550 ...</c> gives <c>550 ...</c>.</summary>
    public static string? Untyped(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var semicolon = value.IndexOf(';');
        var rest = (semicolon < 0 ? value : value[(semicolon + 1)..]).Trim();
        return rest.Length == 0 ? null : rest;
    }

    /// <summary>
    /// The first enhanced status code in text (<c>5.1.1</c>, not part of a longer dotted number such as an IP
    /// address), or else <c>x.0.0</c> from the first reply code (<c>550</c>, <c>451</c>) that stands as a word.
    /// </summary>
    public static EnhancedStatusCode? FindStatus(ReadOnlySpan<char> text)
    {
        EnhancedStatusCode? fromReply = null;
        for (var i = 0; i + 2 < text.Length; i++)
        {
            var c = text[i];
            if (c is not ('2' or '4' or '5') || (i > 0 && (char.IsAsciiDigit(text[i - 1]) || text[i - 1] == '.')))
            {
                continue;
            }

            if (text[i + 1] == '.')
            {
                var position = i + 2;
                if (Number(text, ref position, out var subject) && position < text.Length && text[position] == '.')
                {
                    position++;
                    if (Number(text, ref position, out var detail)
                        && !(position + 1 < text.Length && text[position] == '.' && char.IsAsciiDigit(text[position + 1]))
                        && !(position < text.Length && char.IsAsciiLetter(text[position])))
                    {
                        return new EnhancedStatusCode(c - '0', subject, detail);
                    }
                }
            }
            else if (fromReply is null && char.IsAsciiDigit(text[i + 1]) && char.IsAsciiDigit(text[i + 2])
                && (i + 3 == text.Length || text[i + 3] is ' ' or '-' or '\'' or ')')
                && (i == 0 || text[i - 1] is ' ' or '\'' or '(' or '"' or ':'))
            {
                fromReply = new EnhancedStatusCode(c - '0', 0, 0);
            }
        }

        return fromReply;
    }

    private static bool Number(ReadOnlySpan<char> text, ref int position, out int value)
    {
        value = 0;
        var start = position;
        while (position < text.Length && char.IsAsciiDigit(text[position]) && position - start < 3)
        {
            value = (value * 10) + (text[position] - '0');
            position++;
        }

        return position > start && !(position < text.Length && char.IsAsciiDigit(text[position]));
    }
}
