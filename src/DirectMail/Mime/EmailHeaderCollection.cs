using System;
using System.Collections.ObjectModel;

namespace DirectMail.Mime;

/// <summary>The custom header fields of a message, in the order they are written.</summary>
public sealed class EmailHeaderCollection : Collection<EmailHeader>
{
    /// <summary>Adds a header field.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">See <see cref="EmailHeader(string, string)"/>.</exception>
    public void Add(string name, string value) => Add(new EmailHeader(name, value));

    /// <inheritdoc />
    protected override void InsertItem(int index, EmailHeader item)
    {
        ArgumentNullException.ThrowIfNull(item);
        base.InsertItem(index, item);
    }

    /// <inheritdoc />
    protected override void SetItem(int index, EmailHeader item)
    {
        ArgumentNullException.ThrowIfNull(item);
        base.SetItem(index, item);
    }
}
