using System;
using System.Collections.Generic;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>A queued message as an operator sees it (<c>directmail queue show</c>).</summary>
public sealed class QueuedMessage
{
    /// <summary>Creates the view (stores do this).</summary>
    /// <param name="messageId">The queue id.</param>
    /// <param name="sender">MAIL FROM.</param>
    /// <param name="size">The content's size in octets.</param>
    /// <param name="enqueuedAt">When it was enqueued.</param>
    /// <param name="expiresAt">When undelivered recipients expire.</param>
    /// <param name="recipients">Every recipient, in envelope order.</param>
    public QueuedMessage(string messageId, string sender, long size, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, IReadOnlyList<QueuedRecipient> recipients)
    {
        MessageId = messageId;
        Sender = sender;
        Size = size;
        EnqueuedAt = enqueuedAt;
        ExpiresAt = expiresAt;
        Recipients = recipients;
    }

    /// <summary>The queue id.</summary>
    public string MessageId { get; }

    /// <summary>MAIL FROM.</summary>
    public string Sender { get; }

    /// <summary>The content's size in octets.</summary>
    public long Size { get; }

    /// <summary>When it was enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>When undelivered recipients expire.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Every recipient, in envelope order.</summary>
    public IReadOnlyList<QueuedRecipient> Recipients { get; }

    /// <summary>What a failure notification returns of the message (RFC 3461 <c>RET</c>), or null for no parameter.</summary>
    public DsnReturn? DsnReturn { get; init; }

    /// <summary>The envelope id notifications carry back (RFC 3461 <c>ENVID</c>), or null.</summary>
    public string? DsnEnvelopeId { get; init; }

    /// <summary>REQUIRETLS (RFC 8689) as it was enqueued (<see cref="QueueEntry.RequireTls"/>).</summary>
    public bool RequireTls { get; init; }

    /// <summary><c>TLS-Required: No</c> (RFC 8689 section 5) as it was enqueued (<see cref="QueueEntry.IgnoreRecipientTlsPolicy"/>).</summary>
    public bool IgnoreRecipientTlsPolicy { get; init; }

    /// <summary>The content's <c>Message-ID</c> without angle brackets (<see cref="QueueEntry.InternetMessageId"/>), or null.</summary>
    public string? InternetMessageId { get; init; }
}
