using System;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>One recipient of a <see cref="QueueEntry"/>.</summary>
public sealed class QueueEntryRecipient
{
    /// <summary>Creates a recipient entry.</summary>
    /// <param name="address">RCPT TO, as in <see cref="Smtp.SmtpEnvelope.Recipients"/>.</param>
    /// <param name="state"><see cref="QueueRecipientState.Queued"/> (never tried) or <see cref="QueueRecipientState.Deferred"/> (handed over after a first attempt).</param>
    /// <param name="nextAttemptAt">When it is due.</param>
    /// <param name="firstAttempt">The attempt already made before it was queued (by <c>SendAsync</c>), or null.</param>
    public QueueEntryRecipient(string address, QueueRecipientState state, DateTimeOffset nextAttemptAt, QueueAttempt? firstAttempt = null)
    {
        Address = address;
        State = state;
        NextAttemptAt = nextAttemptAt;
        FirstAttempt = firstAttempt;
    }

    /// <summary>RCPT TO.</summary>
    public string Address { get; }

    /// <summary>Queued or Deferred.</summary>
    public QueueRecipientState State { get; }

    /// <summary>When it is due.</summary>
    public DateTimeOffset NextAttemptAt { get; }

    /// <summary>The attempt already made before it was queued, or null.</summary>
    public QueueAttempt? FirstAttempt { get; }

    /// <summary>When receiving servers should notify the sender (RFC 3461 <c>NOTIFY</c>).</summary>
    public DsnNotify Notify { get; init; }

    /// <summary>The original recipient named in notifications (RFC 3461 <c>ORCPT</c>), or null.</summary>
    public string? OriginalRecipient { get; init; }
}
