using System;
using System.Collections.Generic;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>What the queue hands a store to keep: the envelope, how to send the content, and when.</summary>
public sealed class QueueEntry
{
    /// <summary>Creates an entry.</summary>
    /// <param name="messageId">The queue id (made by the queue; unique, sortable by time).</param>
    /// <param name="sender">MAIL FROM, as in <see cref="SmtpEnvelope.Sender"/> (may be empty: the null reverse-path).</param>
    /// <param name="recipients">The recipients to keep, each with its first due time and the attempt already made, if any.</param>
    /// <param name="bodyType">The content's body type (BODY=).</param>
    /// <param name="requiresSmtpUtf8">True when the envelope or the content needs SMTPUTF8.</param>
    /// <param name="enqueuedAt">When it was enqueued.</param>
    /// <param name="expiresAt">When undelivered recipients expire.</param>
    public QueueEntry(string messageId, string sender, IReadOnlyList<QueueEntryRecipient> recipients, SmtpBodyType bodyType, bool requiresSmtpUtf8, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt)
    {
        MessageId = messageId;
        Sender = sender;
        Recipients = recipients;
        BodyType = bodyType;
        RequiresSmtpUtf8 = requiresSmtpUtf8;
        EnqueuedAt = enqueuedAt;
        ExpiresAt = expiresAt;
    }

    /// <summary>The queue id.</summary>
    public string MessageId { get; }

    /// <summary>MAIL FROM (empty for the null reverse-path).</summary>
    public string Sender { get; }

    /// <summary>The recipients, in envelope order; their index in this list is their index in the store.</summary>
    public IReadOnlyList<QueueEntryRecipient> Recipients { get; }

    /// <summary>The content's body type.</summary>
    public SmtpBodyType BodyType { get; }

    /// <summary>True when the envelope or the content needs SMTPUTF8.</summary>
    public bool RequiresSmtpUtf8 { get; }

    /// <summary>When it was enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>When undelivered recipients expire.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>What a failure notification returns of the message (RFC 3461 <c>RET</c>), or null for no parameter.</summary>
    public DsnReturn? DsnReturn { get; init; }

    /// <summary>The envelope id notifications carry back (RFC 3461 <c>ENVID</c>), or null.</summary>
    public string? DsnEnvelopeId { get; init; }

    /// <summary>
    /// REQUIRETLS (RFC 8689, <see cref="SmtpEnvelope.RequireTls"/>): every attempt goes only to MX hosts authenticated by
    /// DANE or MTA-STS (or to a relay whose certificate is validated against its configured name) that offer REQUIRETLS,
    /// and a message no such host can take so fails at once (5.7.30).
    /// </summary>
    public bool RequireTls { get; init; }

    /// <summary>
    /// The content's header has <c>TLS-Required: No</c> (RFC 8689 section 5, <see cref="Mime.EmailMessage.IgnoreRecipientTlsPolicy"/>):
    /// every attempt ignores the recipient domain's MTA-STS and DANE policy, as a send does; ignored under
    /// <see cref="RequireTls"/>. Found when the message is enqueued.
    /// </summary>
    public bool IgnoreRecipientTlsPolicy { get; init; }

    /// <summary>
    /// The content's <c>Message-ID</c> (RFC 5322) without angle brackets, read from its header when it was enqueued, for
    /// bounce correlation (<see cref="IMailQueueStore.FindByInternetMessageIdAsync"/>); null when the header has none, or
    /// none within <see cref="MailQueue.MaxHeaderScan"/> octets, or one longer than <see cref="MaxInternetMessageIdLength"/>.
    /// </summary>
    public string? InternetMessageId { get; init; }

    /// <summary>The longest <see cref="InternetMessageId"/> kept (characters); a longer one is not kept.</summary>
    public const int MaxInternetMessageIdLength = 250;
}
