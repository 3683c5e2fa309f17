using System;
using System.Diagnostics.CodeAnalysis;
using DirectMail.Smtp;

namespace DirectMail.Mime;

/// <summary>
/// A mailbox: an address with an optional display name, checked when it is made (RFC 5322 section 3.4, RFC 5321
/// section 4.1.2). A Unicode domain is kept in A-labels (IDNA); a UTF-8 local part (RFC 6531) is kept as it is and
/// makes the message need SMTPUTF8.
/// </summary>
public sealed class EmailAddress : IEquatable<EmailAddress>
{
    /// <summary>Creates a mailbox.</summary>
    /// <param name="address">
    /// The address without angle brackets: <c>local@domain</c>; the local part may be quoted (<c>"john doe"@example.com</c>),
    /// the domain may be Unicode (converted to A-labels) or an address literal (<c>[192.0.2.1]</c>).
    /// </param>
    /// <param name="displayName">The name shown for the address, any script; null or empty for none.</param>
    /// <exception cref="ArgumentException">
    /// The address is malformed, or the address or display name holds CR, LF, NUL or another control character
    /// (which could end a header or an SMTP command and inject another).
    /// </exception>
    public EmailAddress(string address, string? displayName = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (displayName is not null)
        {
            MimeSyntax.ThrowOnControl(displayName, nameof(displayName), "display name");
        }

        Address = SmtpSyntax.NormalizeMailbox(address, nameof(address), allowEmpty: false, out var needsUtf8);
        DisplayName = string.IsNullOrEmpty(displayName) ? null : displayName;
        RequiresSmtpUtf8 = needsUtf8;
    }

    /// <summary>The address, <c>local@domain</c>, with the domain in A-labels (ASCII).</summary>
    public string Address { get; }

    /// <summary>The display name; null when there is none.</summary>
    public string? DisplayName { get; }

    /// <summary>The local part, before the last <c>@</c> (quotes kept when it is quoted).</summary>
    public string LocalPart => Address.Substring(0, Address.LastIndexOf('@'));

    /// <summary>The domain in A-labels, or the address literal with its brackets.</summary>
    public string Domain => Address.Substring(Address.LastIndexOf('@') + 1);

    /// <summary>True when the local part holds non-ASCII characters: the address can only be sent to a server offering SMTPUTF8 (RFC 6531).</summary>
    public bool RequiresSmtpUtf8 { get; }

    /// <summary>
    /// Reads a mailbox as written in a header: <c>user@example.com</c>, <c>&lt;user@example.com&gt;</c>,
    /// <c>Name &lt;user@example.com&gt;</c> or <c>"Name, Title" &lt;user@example.com&gt;</c>. Comments are not supported.
    /// </summary>
    /// <param name="text">The mailbox.</param>
    /// <exception cref="ArgumentException">The text is not a mailbox, or holds a control character.</exception>
    public static EmailAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        MimeSyntax.ThrowOnControl(text, nameof(text), "address");
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            throw new ArgumentException("The address is empty.", nameof(text));
        }

        if (span[^1] != '>')
        {
            if (span.IndexOfAny('<', '>') >= 0)
            {
                throw new ArgumentException($"'{text}' is not a mailbox: an angle-bracketed address must end the text.", nameof(text));
            }

            return new EmailAddress(span.ToString());
        }

        var open = FindAngleOpen(span);
        if (open < 0)
        {
            throw new ArgumentException($"'{text}' is not a mailbox: '>' without '<'.", nameof(text));
        }

        var address = span[(open + 1)..^1].Trim();
        var display = span[..open].Trim();
        string? name = null;
        if (!display.IsEmpty)
        {
            name = display[0] == '"' ? Unquote(display, text) : display.ToString();
        }

        return new EmailAddress(address.ToString(), name);
    }

    /// <summary>Reads a mailbox as <see cref="Parse(string)"/> does; false instead of an exception when it is not one.</summary>
    /// <param name="text">The mailbox.</param>
    /// <param name="address">The mailbox read, or null.</param>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out EmailAddress? address)
    {
        address = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            address = Parse(text);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The mailbox as a person reads it: <c>"Name" &lt;local@domain&gt;</c>, or the address alone.</summary>
    public override string ToString()
    {
        if (DisplayName is null)
        {
            return Address;
        }

        return string.Concat("\"", DisplayName.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal), "\" <", Address, ">");
    }

    /// <summary>True when both have the same address (domain compared without case) and the same display name.</summary>
    /// <param name="other">The other mailbox.</param>
    public bool Equals(EmailAddress? other)
    {
        if (other is null)
        {
            return false;
        }

        var at = Address.LastIndexOf('@');
        var otherAt = other.Address.LastIndexOf('@');
        return string.Equals(DisplayName, other.DisplayName, StringComparison.Ordinal)
            && Address.AsSpan(0, at).SequenceEqual(other.Address.AsSpan(0, otherAt))
            && Address.AsSpan(at).Equals(other.Address.AsSpan(otherAt), StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EmailAddress);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var at = Address.LastIndexOf('@');
        return HashCode.Combine(
            string.GetHashCode(Address.AsSpan(0, at), StringComparison.Ordinal),
            string.GetHashCode(Address.AsSpan(at), StringComparison.OrdinalIgnoreCase),
            DisplayName);
    }

    private static int FindAngleOpen(ReadOnlySpan<char> span)
    {
        // The '<' that opens the address is the last one outside a quoted display name.
        var inQuote = false;
        var open = -1;
        for (var i = 0; i < span.Length - 1; i++)
        {
            var c = span[i];
            if (inQuote)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inQuote = false;
                }
            }
            else if (c == '"')
            {
                inQuote = true;
            }
            else if (c == '<')
            {
                open = i;
            }
        }

        return open;
    }

    private static string Unquote(ReadOnlySpan<char> quoted, string text)
    {
        if (quoted.Length < 2 || quoted[^1] != '"')
        {
            throw new ArgumentException($"'{text}' has an unterminated quoted display name.", nameof(text));
        }

        var inner = quoted[1..^1];
        if (inner.IndexOfAny('\\', '"') < 0)
        {
            return inner.ToString();
        }

        var builder = new System.Text.StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (c == '\\')
            {
                if (++i == inner.Length)
                {
                    throw new ArgumentException($"'{text}' ends its display name with a lone backslash.", nameof(text));
                }

                c = inner[i];
            }
            else if (c == '"')
            {
                throw new ArgumentException($"'{text}' has an unescaped quote in its display name.", nameof(text));
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
