using System;
using System.Globalization;

namespace DirectMail.Queue;

/// <summary>
/// A write through a <see cref="QueueClaim"/> was refused because the claim is no longer the message's newest: its
/// lease expired and another worker claimed the message, an operator held or bounced it, the claim was already
/// completed, or the message was deleted. Nothing was written.
/// </summary>
public sealed class QueueLeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="messageId">The queue id.</param>
    /// <param name="fence">The fencing token that was refused.</param>
    /// <param name="currentFence">The message's fence now (greater than <paramref name="fence"/>), or null when the message no longer exists.</param>
    public QueueLeaseLostException(string messageId, long fence, long? currentFence)
        : base(currentFence is { } current
            ? string.Create(CultureInfo.InvariantCulture, $"The lease on queued message {messageId} (fence {fence}) was lost: the message's fence is now {current} (a newer claim, an operator's hold or bounce, or the end of this claim); nothing was written.")
            : string.Create(CultureInfo.InvariantCulture, $"The lease on queued message {messageId} (fence {fence}) was lost: the message was deleted; nothing was written."))
    {
        MessageId = messageId;
        Fence = fence;
        CurrentFence = currentFence;
    }

    /// <summary>The queue id.</summary>
    public string MessageId { get; }

    /// <summary>The fencing token that was refused.</summary>
    public long Fence { get; }

    /// <summary>The message's fence when the write was refused, or null when the message was deleted.</summary>
    public long? CurrentFence { get; }

    /// <summary>True when the write was refused because the message no longer exists (an operator deleted it).</summary>
    public bool MessageDeleted => CurrentFence is null;
}
