using System;

namespace DirectMail.Queue;

/// <summary>
/// A write through a <see cref="QueueClaim"/> was refused because a newer claim of the same message exists (the
/// lease expired and another worker took it): nothing was written.
/// </summary>
public sealed class QueueLeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="messageId">The queue id.</param>
    /// <param name="fence">The fencing token that was refused.</param>
    public QueueLeaseLostException(string messageId, long fence)
        : base($"The lease on queued message {messageId} (fence {fence}) was lost to a newer claim; nothing was written.")
    {
        MessageId = messageId;
        Fence = fence;
    }

    /// <summary>The queue id.</summary>
    public string MessageId { get; }

    /// <summary>The fencing token that was refused.</summary>
    public long Fence { get; }
}
