using System;

namespace DirectMail.Queue;

/// <summary>
/// The argument checks every <see cref="IMailQueueStore"/> makes before it writes (shared by the store packages, which
/// see the core's internals): an entry a store can keep, recipients that belong to the claim, outcomes a worker may record.
/// </summary>
internal static class QueueStoreArguments
{
    /// <exception cref="ArgumentException">The entry has no id, no recipients, or a recipient neither Queued nor Deferred nor Failed with the attempt that says why (suppressed at enqueue).</exception>
    public static void ValidateEntry(QueueEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrEmpty(entry.MessageId, nameof(entry));
        if (entry.Recipients.Count == 0)
        {
            throw new ArgumentException($"Queued message {entry.MessageId} has no recipients.", nameof(entry));
        }

        for (var i = 0; i < entry.Recipients.Count; i++)
        {
            var recipient = entry.Recipients[i];
            if (recipient.State is not (QueueRecipientState.Queued or QueueRecipientState.Deferred)
                && !(recipient.State == QueueRecipientState.Failed && recipient.FirstAttempt is not null))
            {
                throw new ArgumentException($"Recipient {i} of queued message {entry.MessageId} is {recipient.State}; a new entry's recipients are Queued or Deferred, or Failed with the attempt that says why.", nameof(entry));
            }
        }
    }

    /// <summary>Refuses a value that is no <see cref="QueueOperation"/>.</summary>
    public static void ValidateOperation(QueueOperation operation)
    {
        if (!Enum.IsDefined(operation))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "Not a queue operation.");
        }
    }

    /// <exception cref="ArgumentOutOfRangeException">At most fewer than one message, or a lease that is not positive.</exception>
    public static void ValidateClaim(int maxMessages, TimeSpan lease)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        if (lease <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "A lease lasts a positive time.");
        }
    }

    /// <exception cref="ArgumentException">An index is not one of the claim's recipients.</exception>
    public static void RequireClaimed(QueueClaim claim, int index)
    {
        var recipients = claim.Recipients;
        for (var i = 0; i < recipients.Count; i++)
        {
            if (recipients[i].Index == index)
            {
                return;
            }
        }

        throw new ArgumentException($"Recipient {index} of queued message {claim.MessageId} is not part of the claim.", nameof(claim));
    }

    /// <exception cref="ArgumentException">An update names a recipient outside the claim, or a state a worker cannot record.</exception>
    public static void ValidateUpdates(QueueClaim claim, System.Collections.Generic.IReadOnlyList<QueueRecipientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(updates);
        for (var i = 0; i < updates.Count; i++)
        {
            var update = updates[i];
            RequireClaimed(claim, update.Index);
            switch (update.State)
            {
                case QueueRecipientState.Deferred when update.NextAttemptAt is null:
                    throw new ArgumentException($"The update of recipient {update.Index} defers it without a next attempt time.", nameof(updates));
                case QueueRecipientState.Deferred or QueueRecipientState.Delivered or QueueRecipientState.Failed
                    or QueueRecipientState.Expired or QueueRecipientState.InDoubt:
                    break;
                default:
                    throw new ArgumentException($"A worker cannot leave recipient {update.Index} {update.State}.", nameof(updates));
            }
        }
    }

    /// <summary>True when every recipient of a new entry is already final (all suppressed at enqueue): the store keeps it settled, without content.</summary>
    public static bool IsSettled(QueueEntry entry)
    {
        for (var i = 0; i < entry.Recipients.Count; i++)
        {
            if (entry.Recipients[i].State != QueueRecipientState.Failed)
            {
                return false;
            }
        }

        return true;
    }

    /// <exception cref="ArgumentException">No Message-ID, or a limit below one.</exception>
    public static void ValidateMessageIdLookup(string internetMessageId, int limit)
    {
        ArgumentException.ThrowIfNullOrEmpty(internetMessageId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
    }
}
