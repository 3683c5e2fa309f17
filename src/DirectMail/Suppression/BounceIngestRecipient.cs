using DirectMail.Dsn;

namespace DirectMail.Suppression;

/// <summary>One recipient of an ingested bounce: what the bounce says, which sent recipient it is, and whether it was suppressed.</summary>
public sealed class BounceIngestRecipient
{
    internal BounceIngestRecipient(BounceRecipient bounce, string? address, int? recipientIndex, bool suppressed)
    {
        Bounce = bounce;
        Address = address;
        RecipientIndex = recipientIndex;
        Suppressed = suppressed;
    }

    /// <summary>What the bounce reports of it.</summary>
    public BounceRecipient Bounce { get; }

    /// <summary>
    /// The address it was sent to (RCPT TO): the queued recipient it was correlated with, else the one its VERP address
    /// names, else its <c>Original-Recipient</c> or its reported address; null when the bounce names no usable address.
    /// </summary>
    public string? Address { get; }

    /// <summary>Its index in the queued message (<see cref="BounceIngestResult.QueueId"/>), when it was correlated with one; else null.</summary>
    public int? RecipientIndex { get; }

    /// <summary>True when it was added to the suppression list (a hard bounce, correlated when that is required).</summary>
    public bool Suppressed { get; }
}
