using System;

namespace DirectMail.Queue;

/// <summary>An outcome the worker recorded for one recipient of a queued message.</summary>
public sealed class MailQueueEvent
{
    internal MailQueueEvent(string queueId, int recipientIndex, string address, QueueRecipientState state, DateTimeOffset? nextAttemptAt, QueueAttempt? attempt, string? detail, bool isDelayed = false, bool isRelayed = false)
    {
        IsRelayed = isRelayed;
        QueueId = queueId;
        RecipientIndex = recipientIndex;
        Address = address;
        State = state;
        NextAttemptAt = nextAttemptAt;
        Attempt = attempt;
        Detail = detail;
        IsDelayed = isDelayed;
    }

    /// <summary>The queue id of the message.</summary>
    public string QueueId { get; }

    /// <summary>The recipient's index in the message.</summary>
    public int RecipientIndex { get; }

    /// <summary>RCPT TO.</summary>
    public string Address { get; }

    /// <summary>Delivered, Deferred, Failed, Expired or InDoubt (a Delayed event is a Deferred one with <see cref="IsDelayed"/>).</summary>
    public QueueRecipientState State { get; }

    /// <summary>For Deferred, when it is tried again.</summary>
    public DateTimeOffset? NextAttemptAt { get; }

    /// <summary>
    /// The attempt, with the server's reply, as recorded in the store; null when none was made (the message had
    /// expired, the destination is known to be down or throttled, or the worker stopped before it was tried).
    /// </summary>
    public QueueAttempt? Attempt { get; }

    /// <summary>Why, when no attempt says it (not tried: destination down), else the attempt's detail.</summary>
    public string? Detail { get; }

    /// <summary>
    /// True on the one event per recipient that tells it is delayed: a deferral (<see cref="State"/> Deferred) once the
    /// message has waited <see cref="MailQueueOptions.DelayWarningTime"/> (RFC 3464's <c>Action: delayed</c>, Postfix's
    /// <c>delay_warning_time</c>). The warning is remembered in the recipient's history (the first attempt recorded at or
    /// after that age), so it is given once, whichever instance makes the deferral.
    /// </summary>
    public bool IsDelayed { get; }

    /// <summary>
    /// True on a Delivered event whose recipient asked for NOTIFY=SUCCESS and whose server offers no DSN (RFC 3461
    /// section 4.1): that server will send no success notice, so the delivery is reported as relayed
    /// (RFC 3464 <c>Action: relayed</c>), as the queue's notice does (<see cref="MailQueueOptions.SendDeliveryStatusNotices"/>).
    /// </summary>
    public bool IsRelayed { get; }

    /// <summary>
    /// The reply DirectMail made itself for this outcome (<see cref="Smtp.SmtpReply.IsSynthetic"/>: a suppressed recipient,
    /// REQUIRETLS that no MX can meet), kept in the attempt's detail rather than its reply; the notice takes its status
    /// from it. Null when a server replied or nothing was made.
    /// </summary>
    internal Smtp.SmtpReply? LocalReply { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{QueueId} {Address}: {State}{(IsDelayed ? " (delayed)" : string.Empty)}{(IsRelayed ? " (relayed)" : string.Empty)}{(Attempt?.Reply is { } reply ? " (" + reply.Replace('\n', ' ') + ")" : Detail is null ? string.Empty : " (" + Detail + ")")}";
}
