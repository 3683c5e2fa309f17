using System;
using System.Collections.ObjectModel;

namespace DirectMail.Mime;

/// <summary>A list of mailboxes (To, Cc, Bcc, Reply-To).</summary>
public sealed class EmailAddressCollection : Collection<EmailAddress>
{
    /// <summary>Adds a mailbox.</summary>
    /// <param name="address">The address, <c>local@domain</c>.</param>
    /// <param name="displayName">The display name, or null.</param>
    /// <exception cref="ArgumentException">See <see cref="EmailAddress(string, string?)"/>.</exception>
    public void Add(string address, string? displayName = null) => Add(new EmailAddress(address, displayName));

    /// <inheritdoc />
    protected override void InsertItem(int index, EmailAddress item)
    {
        ArgumentNullException.ThrowIfNull(item);
        base.InsertItem(index, item);
    }

    /// <inheritdoc />
    protected override void SetItem(int index, EmailAddress item)
    {
        ArgumentNullException.ThrowIfNull(item);
        base.SetItem(index, item);
    }
}

