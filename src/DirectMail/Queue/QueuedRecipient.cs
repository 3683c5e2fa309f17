using System;
using System.Collections.Generic;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>One recipient of a <see cref="QueuedMessage"/>, with its history.</summary>
public sealed class QueuedRecipient
{
    /// <summary>Creates the view (stores do this).</summary>
    /// <param name="index">Its index in the message.</param>
    /// <param name="address">RCPT TO.</param>
    /// <param name="state">Where it stands.</param>
    /// <param name="nextAttemptAt">When it is due (Queued, Deferred), else null.</param>
    /// <param name="attempts">Every attempt recorded, oldest first.</param>
    public QueuedRecipient(int index, string address, QueueRecipientState state, DateTimeOffset? nextAttemptAt, IReadOnlyList<QueueAttempt> attempts)
    {
        Index = index;
        Address = address;
        State = state;
        NextAttemptAt = nextAttemptAt;
        Attempts = attempts;
    }

    /// <summary>Its index in the message.</summary>
    public int Index { get; }

    /// <summary>RCPT TO.</summary>
    public string Address { get; }

    /// <summary>Where it stands.</summary>
    public QueueRecipientState State { get; }

    /// <summary>When it is due (Queued, Deferred), else null.</summary>
    public DateTimeOffset? NextAttemptAt { get; }

    /// <summary>Every attempt recorded, oldest first.</summary>
    public IReadOnlyList<QueueAttempt> Attempts { get; }

    /// <summary>When receiving servers should notify the sender (RFC 3461 <c>NOTIFY</c>).</summary>
    public DsnNotify Notify { get; init; }

    /// <summary>The original recipient named in notifications (RFC 3461 <c>ORCPT</c>), or null.</summary>
    public string? OriginalRecipient { get; init; }
}
