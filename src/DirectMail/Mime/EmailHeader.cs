using System;

namespace DirectMail.Mime;

/// <summary>A custom header field: a name and an unstructured value (RFC 5322 section 2.2).</summary>
public sealed class EmailHeader
{
    /// <summary>Creates a header field.</summary>
    /// <param name="name">The field name: printable ASCII without colon or space, for example <c>X-Campaign</c>.</param>
    /// <param name="value">The value, any script (non-ASCII is written as RFC 2047 encoded-words). Folding is done by the writer.</param>
    /// <exception cref="ArgumentException">
    /// The name is not a field name or is one the writer writes itself (<c>TLS-Required</c> among them: see
    /// <see cref="EmailMessage.IgnoreRecipientTlsPolicy"/>); the name or value holds CR, LF, NUL or another control
    /// character (header injection).
    /// </exception>
    public EmailHeader(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        MimeSyntax.ThrowOnControl(name, nameof(name), "header name");
        if (name.Length is 0 or > 76)
        {
            throw new ArgumentException("A header name must be 1 to 76 characters.", nameof(name));
        }

        foreach (var c in name)
        {
            if (!MimeSyntax.IsFieldNameChar(c))
            {
                throw new ArgumentException($"The header name '{name}' holds '{c}': a field name is printable ASCII without colon or space (RFC 5322 section 2.2).", nameof(name));
            }
        }

        if (name.Equals("TLS-Required", StringComparison.OrdinalIgnoreCase))
        {
            // A second or contradicting field would leave it to each server which one counts (RFC 8689 section 5).
            throw new ArgumentException($"The header '{name}' is written from EmailMessage.IgnoreRecipientTlsPolicy (RFC 8689 section 5: TLS-Required: No) and cannot be added as a custom header: set that property instead.", nameof(name));
        }

        if (IsReserved(name))
        {
            throw new ArgumentException($"The header '{name}' is written from the message's own properties and cannot be added as a custom header.", nameof(name));
        }

        MimeSyntax.ThrowOnControl(value, nameof(value), $"value of header '{name}'");
        Name = name;
        Value = value;
    }

    /// <summary>The field name.</summary>
    public string Name { get; }

    /// <summary>The unstructured value.</summary>
    public string Value { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Value}";

    private static bool IsReserved(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("From", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Sender", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Reply-To", StringComparison.OrdinalIgnoreCase)
        || name.Equals("To", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Cc", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Bcc", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Subject", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Date", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase)
        || name.Equals("MIME-Version", StringComparison.OrdinalIgnoreCase);
}
