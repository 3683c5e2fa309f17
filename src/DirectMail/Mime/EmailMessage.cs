using System;
using System.Collections.Generic;
using DirectMail.Smtp;

namespace DirectMail.Mime;

/// <summary>
/// A message to send: addresses, subject, a text and/or HTML body, attachments, inline resources and custom headers.
/// Every value is checked when it is set; <see cref="ToSmtpContent"/> and <see cref="CreateEnvelope"/> check the
/// message as a whole.
/// </summary>
public sealed class EmailMessage
{
    private string? _subject;
    private string? _messageId;

    /// <summary>The author (<c>From</c>); required.</summary>
    public EmailAddress? From { get; set; }

    /// <summary>The agent that sent the message for the author (<c>Sender</c>), when not the author; it is then the envelope sender.</summary>
    public EmailAddress? Sender { get; set; }

    /// <summary>Where replies go (<c>Reply-To</c>).</summary>
    public EmailAddressCollection ReplyTo { get; } = new();

    /// <summary>The primary recipients (<c>To</c>).</summary>
    public EmailAddressCollection To { get; } = new();

    /// <summary>The copied recipients (<c>Cc</c>).</summary>
    public EmailAddressCollection Cc { get; } = new();

    /// <summary>The blind-copied recipients: in the envelope only, never written into the headers.</summary>
    public EmailAddressCollection Bcc { get; } = new();

    /// <summary>The subject, any script; null for none.</summary>
    /// <exception cref="ArgumentException">The subject holds CR, LF, NUL or another control character (header injection).</exception>
    public string? Subject
    {
        get => _subject;
        set
        {
            if (value is not null)
            {
                MimeSyntax.ThrowOnControl(value, nameof(Subject), "subject");
            }

            _subject = value;
        }
    }

    /// <summary>The plain text body; null for none. Line ends may be CRLF, LF or CR.</summary>
    public string? TextBody { get; set; }

    /// <summary>The HTML body; null for none. Inline resources are referenced from it by <c>cid:</c>.</summary>
    public string? HtmlBody { get; set; }

    /// <summary>Files attached to the message.</summary>
    public IList<Attachment> Attachments { get; } = new List<Attachment>();

    /// <summary>Resources the HTML body refers to by <c>cid:</c>; they need an <see cref="HtmlBody"/>.</summary>
    public IList<InlineResource> InlineResources { get; } = new List<InlineResource>();

    /// <summary>Custom header fields, written after the standard ones.</summary>
    public EmailHeaderCollection Headers { get; } = new();

    /// <summary>The priority.</summary>
    public EmailPriority Priority { get; set; }

    /// <summary>
    /// Whether the recipient domain's TLS policy is ignored for this message (RFC 8689 section 5): when true the
    /// header field <c>TLS-Required: No</c> is written, and DirectMail (a send, or the queue on every retry) delivers the
    /// message even where the domain's MTA-STS policy (mode enforce) or DANE TLSA records would refuse every MX host:
    /// TLS is then used when offered, unauthenticated. Meant for messages that must get through a broken TLS setup, such
    /// as TLS reports (RFC 8460) or a notice to the domain's postmaster about it. Ignored when the envelope asks for
    /// REQUIRETLS (<see cref="SmtpEnvelope.RequireTls"/>), which RFC 8689 section 5 makes win. False by default.
    /// </summary>
    /// <remarks>
    /// The header field can only be set so: <c>TLS-Required</c> is refused as a custom header (<see cref="EmailHeader"/>).
    /// Servers down the line that implement RFC 8689 honour the field too.
    /// </remarks>
    public bool IgnoreRecipientTlsPolicy { get; set; }

    /// <summary>The origination date (<c>Date</c>); the time of <see cref="ToSmtpContent"/> when null.</summary>
    public DateTimeOffset? Date { get; set; }

    /// <summary>
    /// The <c>Message-ID</c> without angle brackets, for example <c>1234@example.com</c>; when null, one is made by
    /// <see cref="ToSmtpContent"/>: a random unique part at the sender's domain.
    /// </summary>
    /// <exception cref="ArgumentException">The value holds a control character, space, angle bracket or quote.</exception>
    public string? MessageId
    {
        get => _messageId;
        set
        {
            if (value is not null)
            {
                MimeSyntax.ValidateId(value, nameof(MessageId), "Message-ID");
                if (value.IndexOf('@') <= 0 || value[^1] == '@')
                {
                    throw new ArgumentException($"The Message-ID '{value}' needs the form unique@domain (RFC 5322 section 3.6.4).", nameof(MessageId));
                }
            }

            _messageId = value;
        }
    }

    /// <summary>
    /// The content to send: the message written as RFC 5322 + MIME for each server's capabilities. The message is
    /// checked and copied now (a Date and a Message-ID are fixed when absent), so every attempt, on any host, sends
    /// the same message; later changes to this object do not affect it.
    /// </summary>
    /// <exception cref="InvalidOperationException">From is missing, there is no recipient, or inline resources have no HTML body.</exception>
    public MessageContent ToSmtpContent() => new(this, MimeRandom.Shared, null);

    /// <summary>
    /// The envelope for the message: the sender is <see cref="Sender"/> or else <see cref="From"/>; the recipients are
    /// To, Cc and Bcc, each address once.
    /// </summary>
    /// <exception cref="InvalidOperationException">From is missing or there is no recipient.</exception>
    public SmtpEnvelope CreateEnvelope()
    {
        var sender = Sender ?? From ?? throw new InvalidOperationException("The message has no From address: set From (the author) so the envelope has a sender.");
        var count = To.Count + Cc.Count + Bcc.Count;
        if (count == 0)
        {
            throw new InvalidOperationException("The message has no recipient: add at least one address to To, Cc or Bcc.");
        }

        var recipients = new string[count];
        var i = 0;
        foreach (var list in new[] { To, Cc, Bcc })
        {
            foreach (var address in list)
            {
                recipients[i++] = address.Address;
            }
        }

        return new SmtpEnvelope(sender.Address, recipients);
    }
}
