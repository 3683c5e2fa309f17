using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>A due recipient of a <see cref="QueueClaim"/>.</summary>
public sealed class QueueClaimedRecipient
{
    /// <summary>Creates a claimed recipient (stores do this).</summary>
    /// <param name="index">Its index in the message's recipient list.</param>
    /// <param name="address">RCPT TO.</param>
    /// <param name="attempts">How many attempts were recorded for it so far.</param>
    public QueueClaimedRecipient(int index, string address, int attempts)
    {
        Index = index;
        Address = address;
        Attempts = attempts;
    }

    /// <summary>Its index in the message's recipient list.</summary>
    public int Index { get; }

    /// <summary>RCPT TO.</summary>
    public string Address { get; }

    /// <summary>How many attempts were recorded so far.</summary>
    public int Attempts { get; }

    /// <summary>When receiving servers should notify the sender (RFC 3461 <c>NOTIFY</c>).</summary>
    public DsnNotify Notify { get; init; }

    /// <summary>The original recipient named in notifications (RFC 3461 <c>ORCPT</c>), or null.</summary>
    public string? OriginalRecipient { get; init; }
}
