namespace DirectMail.Queue;

/// <summary>Where one recipient of a queued message stands.</summary>
public enum QueueRecipientState
{
    /// <summary>Waiting for its first attempt by the queue (due at <see cref="QueuedRecipient.NextAttemptAt"/>).</summary>
    Queued,

    /// <summary>Tried and deferred (4xx, unreachable, DNS): tried again at <see cref="QueuedRecipient.NextAttemptAt"/>.</summary>
    Deferred,

    /// <summary>
    /// A worker holds it and has marked, durably, that the end of the message is about to be sent. Transient: the
    /// worker records the outcome; if the worker dies, the recipient becomes <see cref="InDoubt"/>.
    /// </summary>
    InFlight,

    /// <summary>A receiving server accepted the message for it. Final.</summary>
    Delivered,

    /// <summary>Refused for good (5xx, no such domain), or bounced by an operator. Final.</summary>
    Failed,

    /// <summary>Still undelivered when the message reached its maximum age. Final.</summary>
    Expired,

    /// <summary>Held by an operator: not tried until released.</summary>
    Held,

    /// <summary>
    /// The end of the message was sent (or was about to be) but no outcome was recorded: the connection broke after
    /// the dot, or the worker died. The server may have the message; it is not sent again unless released.
    /// </summary>
    InDoubt,
}
