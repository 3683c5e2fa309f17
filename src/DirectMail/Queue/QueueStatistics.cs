using System;
using System.Collections.Generic;

namespace DirectMail.Queue;

/// <summary>What a store holds, for metrics and <c>directmail queue list</c>.</summary>
public sealed class QueueStatistics
{
    /// <summary>Creates statistics (stores do this).</summary>
    /// <param name="recipientsByState">The number of recipients in each state that has any.</param>
    /// <param name="messages">The number of messages with at least one recipient not final.</param>
    /// <param name="oldestPendingEnqueuedAt">When the oldest message with a recipient not final was enqueued, or null.</param>
    /// <param name="nextDueAt">The earliest due time of a Queued or Deferred recipient, or null.</param>
    /// <param name="attempts">The number of attempts recorded.</param>
    public QueueStatistics(IReadOnlyDictionary<QueueRecipientState, long> recipientsByState, long messages, DateTimeOffset? oldestPendingEnqueuedAt, DateTimeOffset? nextDueAt, long attempts)
    {
        RecipientsByState = recipientsByState;
        Messages = messages;
        OldestPendingEnqueuedAt = oldestPendingEnqueuedAt;
        NextDueAt = nextDueAt;
        Attempts = attempts;
    }

    /// <summary>The number of recipients in each state that has any.</summary>
    public IReadOnlyDictionary<QueueRecipientState, long> RecipientsByState { get; }

    /// <summary>The number of messages with at least one recipient not final.</summary>
    public long Messages { get; }

    /// <summary>When the oldest message with a recipient not final was enqueued, or null.</summary>
    public DateTimeOffset? OldestPendingEnqueuedAt { get; }

    /// <summary>The earliest due time of a Queued or Deferred recipient, or null.</summary>
    public DateTimeOffset? NextDueAt { get; }

    /// <summary>The number of attempts recorded.</summary>
    public long Attempts { get; }
}
