using System;
using System.Globalization;
using System.Text;

namespace DirectMail.Dsn;

/// <summary>
/// Variable envelope return paths (VERP): a MAIL FROM address that says which message and recipient a bounce is
/// about, so that a bounce is correlated even when it carries no DSN. The form is
/// <c>prefix+tag-local=domain@bounce-domain</c> (the classic <c>local=domain</c> form of Postfix and qmail, with a tag
/// such as the queue id in front), for example <c>bounces+q1a2b-jane.doe=example.org@bounce.example.com</c>.
/// Characters that are not letters, digits, <c>_</c> or a single <c>.</c> between them are written as <c>+HH</c>
/// (their UTF-8 octets), so the address stays an ASCII dot-atom whatever the recipient's local part holds
/// (<c>+</c>, <c>=</c>, quotes, UTF-8) and decodes to exactly what was encoded.
/// </summary>
public static class VerpAddress
{
    /// <summary>The longest address <see cref="Encode"/> makes (RFC 5321 section 4.5.3.1.3: a path is at most 256 octets with its brackets).</summary>
    public const int MaxLength = 254;

    /// <summary>Makes the VERP address for one recipient of one message.</summary>
    /// <param name="prefix">The local part's fixed start, for example <c>bounces</c>: letters, digits, <c>.</c>, <c>_</c>, <c>-</c>.</param>
    /// <param name="tag">What identifies the message, for example its queue id; any non-empty text.</param>
    /// <param name="recipient">The recipient's address, <c>local@domain</c>.</param>
    /// <param name="bounceDomain">The domain bounces go to (whose MX the application reads).</param>
    /// <returns>The address to send with as MAIL FROM.</returns>
    /// <exception cref="ArgumentException">A value is empty or not of the form described, or the address would be longer than <see cref="MaxLength"/>.</exception>
    public static string Encode(string prefix, string tag, string recipient, string bounceDomain)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentException.ThrowIfNullOrEmpty(tag);
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentException.ThrowIfNullOrEmpty(bounceDomain);
        foreach (var c in prefix)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') || prefix[0] == '.')
            {
                throw new ArgumentException("A VERP prefix holds letters, digits, '.', '_' and '-' only, and does not start with '.'.", nameof(prefix));
            }
        }

        foreach (var c in bounceDomain)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
            {
                throw new ArgumentException("The bounce domain is an ASCII host name (letters, digits, '.', '-').", nameof(bounceDomain));
            }
        }

        var at = recipient.LastIndexOf('@');
        if (at <= 0 || at == recipient.Length - 1)
        {
            throw new ArgumentException("The recipient is an address: local-part@domain.", nameof(recipient));
        }

        var text = new StringBuilder(prefix.Length + tag.Length + recipient.Length + bounceDomain.Length + 8);
        text.Append(prefix).Append('+');
        Escape(tag, text);
        text.Append('-');
        Escape(recipient.AsSpan(0, at), text);
        text.Append('=');
        Escape(recipient.AsSpan(at + 1), text);
        text.Append('@').Append(bounceDomain);
        if (text.Length > MaxLength)
        {
            throw new ArgumentException($"The VERP address would be {text.Length} characters, longer than {MaxLength}.", nameof(recipient));
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads a VERP address made by <see cref="Encode"/> (the bounce's envelope recipient, or its <c>To</c>):
    /// angle brackets are allowed, the prefix is compared without regard to case.
    /// </summary>
    /// <param name="address">The address the bounce was sent to.</param>
    /// <param name="prefix">The prefix it was made with.</param>
    /// <param name="tag">The tag (the queue id), or empty.</param>
    /// <param name="recipient">The recipient's address, or empty.</param>
    /// <returns>True when the address is a VERP address with that prefix and decodes.</returns>
    public static bool TryDecode(string? address, string prefix, out string tag, out string recipient)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        tag = string.Empty;
        recipient = string.Empty;
        if (address is null)
        {
            return false;
        }

        var value = address.AsSpan().Trim();
        if (value.Length >= 2 && value[0] == '<' && value[^1] == '>')
        {
            value = value[1..^1];
        }

        var at = value.LastIndexOf('@');
        if (at <= 0)
        {
            return false;
        }

        var local = value[..at];
        if (local.Length <= prefix.Length + 1 || !local.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || local[prefix.Length] != '+')
        {
            return false;
        }

        var rest = local[(prefix.Length + 1)..];
        var dash = rest.IndexOf('-');
        if (dash <= 0)
        {
            return false;
        }

        var equals = rest[(dash + 1)..].IndexOf('=');
        if (equals <= 0)
        {
            return false;
        }

        var recipientLocal = rest.Slice(dash + 1, equals);
        var recipientDomain = rest[(dash + 1 + equals + 1)..];
        if (recipientDomain.IsEmpty
            || !TryUnescape(rest[..dash], out var decodedTag)
            || !TryUnescape(recipientLocal, out var decodedLocal)
            || !TryUnescape(recipientDomain, out var decodedDomain))
        {
            return false;
        }

        tag = decodedTag;
        recipient = decodedLocal + "@" + decodedDomain;
        return true;
    }

    private static void Escape(ReadOnlySpan<char> value, StringBuilder text)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var index = 0;
        while (index < value.Length)
        {
            if (Rune.DecodeFromUtf16(value[index..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;
            }

            var c = rune.Value;
            // A dot stays only between two kept characters, so the result never has "..", nor a dot next to a separator.
            var keep = (c < 0x80 && (char.IsAsciiLetterOrDigit((char)c) || c == '_'))
                || (c == '.' && index > 0 && IsPlain(value[index - 1]) && index + 1 < value.Length && IsPlain(value[index + 1]));
            if (keep)
            {
                text.Append((char)c);
            }
            else
            {
                var n = rune.EncodeToUtf8(utf8);
                for (var i = 0; i < n; i++)
                {
                    text.Append('+').Append(utf8[i].ToString("X2", CultureInfo.InvariantCulture));
                }
            }

            index += consumed;
        }
    }

    private static bool IsPlain(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool TryUnescape(ReadOnlySpan<char> value, out string result)
    {
        result = string.Empty;
        if (value.IndexOf('+') < 0)
        {
            result = value.ToString();
            return true;
        }

        var bytes = new byte[value.Length];
        var n = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '+')
            {
                if (i + 2 >= value.Length)
                {
                    return false;
                }

                if (!byte.TryParse(value.Slice(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return false;
                }

                bytes[n++] = b;
                i += 2;
            }
            else if (c < 0x80)
            {
                bytes[n++] = (byte)c;
            }
            else
            {
                return false;
            }
        }

        try
        {
            result = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, n);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
