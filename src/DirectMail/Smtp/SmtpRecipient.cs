namespace DirectMail.Smtp;

/// <summary>
/// A forward path with its delivery status notification parameters (RFC 3461): what to notify, and the original
/// recipient to name in the notification. A plain string converts to one with neither.
/// </summary>
public sealed class SmtpRecipient
{
    /// <summary>Creates a recipient.</summary>
    /// <param name="address">The address, without angle brackets.</param>
    /// <param name="notify">When the receiving servers should notify the sender (<c>NOTIFY</c>); <see cref="DsnNotify.Default"/> sends no parameter.</param>
    /// <param name="originalRecipient">
    /// The recipient as the sender first addressed it, before any forwarding or alias expansion (<c>ORCPT</c>): null
    /// for none. An address; sent as <c>rfc822;</c> when ASCII, as <c>utf-8;</c> (RFC 6533) otherwise.
    /// </param>
    public SmtpRecipient(string address, DsnNotify notify = DsnNotify.Default, string? originalRecipient = null)
    {
        Address = address;
        Notify = notify;
        OriginalRecipient = originalRecipient;
    }

    /// <summary>The address, without angle brackets.</summary>
    public string Address { get; }

    /// <summary>When the receiving servers should notify the sender (<c>NOTIFY</c>).</summary>
    public DsnNotify Notify { get; }

    /// <summary>The original recipient named in notifications (<c>ORCPT</c>), or null.</summary>
    public string? OriginalRecipient { get; }

    /// <summary>A recipient without DSN parameters.</summary>
    /// <param name="address">The address, without angle brackets.</param>
    public static implicit operator SmtpRecipient(string address) => new(address);

    /// <inheritdoc />
    public override string ToString() => Address;
}
