using System;

namespace DirectMail.Queue;

/// <summary>The outcome a worker records for one claimed recipient.</summary>
public sealed class QueueRecipientUpdate
{
    /// <summary>Creates an update.</summary>
    /// <param name="index">The recipient's index in the message.</param>
    /// <param name="state">The new state: Deferred, Delivered, Failed, Expired or InDoubt.</param>
    /// <param name="nextAttemptAt">For Deferred, when it is due again; otherwise ignored.</param>
    /// <param name="attempt">The attempt that led here (appended to the recipient's history), or null when no attempt was made (expired, or the destination is known to be down).</param>
    public QueueRecipientUpdate(int index, QueueRecipientState state, DateTimeOffset? nextAttemptAt, QueueAttempt? attempt)
    {
        Index = index;
        State = state;
        NextAttemptAt = nextAttemptAt;
        Attempt = attempt;
    }

    /// <summary>The recipient's index in the message.</summary>
    public int Index { get; }

    /// <summary>The new state.</summary>
    public QueueRecipientState State { get; }

    /// <summary>For Deferred, when it is due again.</summary>
    public DateTimeOffset? NextAttemptAt { get; }

    /// <summary>The attempt that led here, or null.</summary>
    public QueueAttempt? Attempt { get; }
}
