using System;
using System.Collections.Generic;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// A message a worker has claimed from a store, with the recipients that were due. The claim holds a lease until
/// <see cref="LeaseUntil"/> and a fencing token: every write made through the claim is refused
/// (<see cref="QueueLeaseLostException"/>) once another claim of the same message has been made, so a worker that
/// lost its lease cannot overwrite a newer outcome.
/// </summary>
public sealed class QueueClaim
{
    /// <summary>Creates a claim (stores do this).</summary>
    /// <param name="messageId">The queue id.</param>
    /// <param name="fence">The fencing token: strictly greater than any earlier claim's of the same message.</param>
    /// <param name="leaseUntil">When the lease ends unless renewed.</param>
    /// <param name="sender">MAIL FROM.</param>
    /// <param name="bodyType">The content's body type.</param>
    /// <param name="requiresSmtpUtf8">True when the envelope or the content needs SMTPUTF8.</param>
    /// <param name="enqueuedAt">When it was enqueued.</param>
    /// <param name="expiresAt">When undelivered recipients expire.</param>
    /// <param name="recipients">The recipients that were due, in envelope order.</param>
    public QueueClaim(string messageId, long fence, DateTimeOffset leaseUntil, string sender, SmtpBodyType bodyType, bool requiresSmtpUtf8, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, IReadOnlyList<QueueClaimedRecipient> recipients)
    {
        MessageId = messageId;
        Fence = fence;
        LeaseUntil = leaseUntil;
        Sender = sender;
        BodyType = bodyType;
        RequiresSmtpUtf8 = requiresSmtpUtf8;
        EnqueuedAt = enqueuedAt;
        ExpiresAt = expiresAt;
        Recipients = recipients;
    }

    /// <summary>The queue id.</summary>
    public string MessageId { get; }

    /// <summary>The fencing token of this claim.</summary>
    public long Fence { get; }

    /// <summary>When the lease ends unless renewed.</summary>
    public DateTimeOffset LeaseUntil { get; }

    /// <summary>MAIL FROM.</summary>
    public string Sender { get; }

    /// <summary>The content's body type.</summary>
    public SmtpBodyType BodyType { get; }

    /// <summary>True when the envelope or the content needs SMTPUTF8.</summary>
    public bool RequiresSmtpUtf8 { get; }

    /// <summary>When it was enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>When undelivered recipients expire.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The due recipients, in envelope order.</summary>
    public IReadOnlyList<QueueClaimedRecipient> Recipients { get; }

    /// <summary>What a failure notification returns of the message (RFC 3461 <c>RET</c>), or null for no parameter.</summary>
    public DsnReturn? DsnReturn { get; init; }

    /// <summary>The envelope id notifications carry back (RFC 3461 <c>ENVID</c>), or null.</summary>
    public string? DsnEnvelopeId { get; init; }

    /// <summary>REQUIRETLS (RFC 8689) as it was enqueued (<see cref="QueueEntry.RequireTls"/>): the worker's send carries it.</summary>
    public bool RequireTls { get; init; }

    /// <summary>
    /// <c>TLS-Required: No</c> (RFC 8689 section 5) as it was enqueued (<see cref="QueueEntry.IgnoreRecipientTlsPolicy"/>):
    /// the worker's send ignores the recipient domain's MTA-STS and DANE policy (unless <see cref="RequireTls"/>).
    /// </summary>
    public bool IgnoreRecipientTlsPolicy { get; init; }
}
