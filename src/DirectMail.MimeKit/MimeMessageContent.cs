using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using MimeKit;

namespace DirectMail.MimeKit;

/// <summary>
/// A MimeKit <see cref="MimeMessage"/> as SMTP content, written by MimeKit's own writer: CRLF line ends, Bcc and
/// Resent-Bcc never written, 8-bit parts only for a server that announced 8BITMIME (the message is prepared with
/// <see cref="MimeMessage.Prepare(EncodingConstraint, int)"/> for each server, which may change the transfer encoding
/// of its parts), and UTF-8 headers (RFC 6532) only for a server offering SMTPUTF8.
/// </summary>
/// <remarks>
/// Do not change the message while it is being sent. Preparing and writing change the message and read its parts'
/// streams, so one write runs at a time: a session waits for another writing the same content. A send to several
/// domains writes the message once per server form (8BITMIME, SMTPUTF8) into a private spool, one write at a time,
/// and every domain's session sends the octets of its form from there.
/// </remarks>
public sealed class MimeMessageContent : SmtpContent
{
    private readonly bool _requiresSmtpUtf8;
    private readonly SemaphoreSlim _writing = new(1, 1);

    /// <summary>Wraps a message.</summary>
    /// <param name="message">The message.</param>
    public MimeMessageContent(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Message = message;
        _requiresSmtpUtf8 = NeedsUtf8(message.From) || NeedsUtf8(message.Sender) || NeedsUtf8(message.ReplyTo)
            || NeedsUtf8(message.To) || NeedsUtf8(message.Cc)
            || NeedsUtf8(message.ResentFrom) || NeedsUtf8(message.ResentSender) || NeedsUtf8(message.ResentTo) || NeedsUtf8(message.ResentCc);
    }

    /// <summary>The message.</summary>
    public MimeMessage Message { get; }

    /// <summary>True when an address in the headers has a non-ASCII local part, which only SMTPUTF8 can carry.</summary>
    public override bool RequiresSmtpUtf8 => _requiresSmtpUtf8;

    /// <summary>
    /// The message's header has <c>TLS-Required: No</c> (RFC 8689 section 5; any case, spaces aside), read when a send
    /// asks: MTA-STS and DANE are then not applied to it, unless the envelope has REQUIRETLS.
    /// </summary>
    internal override bool TlsRequiredNo
    {
        get
        {
            foreach (var header in Message.Headers)
            {
                if (string.Equals(header.Field, "TLS-Required", StringComparison.OrdinalIgnoreCase)
                    && string.Equals(header.Value?.Trim(' ', '\t'), "No", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>8-bit for a server offering 8BITMIME, where 8-bit parts (and, with SMTPUTF8, UTF-8 headers) are kept; 7-bit otherwise, every part encoded.</summary>
    /// <param name="capabilities">What the server announced.</param>
    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        return _requiresSmtpUtf8 || capabilities.Supports(SmtpExtensions.EightBitMime)
            ? SmtpBodyType.EightBit
            : SmtpBodyType.SevenBit;
    }

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(capabilities);
        var eightBit = capabilities.Supports(SmtpExtensions.EightBitMime);

        // Prepare changes the parts' transfer encodings, and writing seeks and reads each part's one stream: two writes
        // at once would interleave both (parts encoded for the other server, attachments split between the copies).
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Message.Prepare(eightBit ? EncodingConstraint.EightBit : EncodingConstraint.SevenBit);
            await Message.WriteToAsync(CreateFormatOptions(capabilities), destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>The options MimeKit writes with for a server: CRLF, Bcc hidden, International when SMTPUTF8 (with 8BITMIME) is offered.</summary>
    internal static FormatOptions CreateFormatOptions(SmtpCapabilities capabilities)
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.EnsureNewLine = true;
        // UTF-8 headers (RFC 6532) need SMTPUTF8, and are 8-bit content, so 8BITMIME too (RFC 6531 requires both).
        options.International = capabilities.Supports(SmtpExtensions.SmtpUtf8 | SmtpExtensions.EightBitMime);
        options.HiddenHeaders.Add(HeaderId.Bcc);
        options.HiddenHeaders.Add(HeaderId.ResentBcc);
        return options;
    }

    /// <summary>
    /// The envelope from the message's headers, as an MTA reads them: when Resent- fields are present, the sender is
    /// Resent-Sender or else the first Resent-From mailbox, the recipients Resent-To, Resent-Cc and Resent-Bcc;
    /// otherwise Sender or else the first From mailbox, and To, Cc and Bcc. Groups are expanded; each address once.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <exception cref="InvalidOperationException">The message has no sender or no recipient.</exception>
    public static SmtpEnvelope CreateEnvelope(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var resent = message.ResentSender is not null || message.ResentFrom.Count > 0;
        var sender = resent
            ? message.ResentSender ?? First(message.ResentFrom)
            : message.Sender ?? First(message.From);
        if (sender is null)
        {
            throw new InvalidOperationException(resent
                ? "The message has Resent- fields but no Resent-Sender or Resent-From mailbox for the envelope sender."
                : "The message has no Sender or From mailbox for the envelope sender.");
        }

        var recipients = new List<string>();
        if (resent)
        {
            Add(recipients, message.ResentTo);
            Add(recipients, message.ResentCc);
            Add(recipients, message.ResentBcc);
        }
        else
        {
            Add(recipients, message.To);
            Add(recipients, message.Cc);
            Add(recipients, message.Bcc);
        }

        if (recipients.Count == 0)
        {
            throw new InvalidOperationException(resent
                ? "The message has no recipient in Resent-To, Resent-Cc or Resent-Bcc."
                : "The message has no recipient: add at least one address to To, Cc or Bcc.");
        }

        return new SmtpEnvelope(sender.Address, recipients);
    }

    private static MailboxAddress? First(InternetAddressList list)
    {
        foreach (var mailbox in list.Mailboxes)
        {
            return mailbox;
        }

        return null;
    }

    private static void Add(List<string> recipients, InternetAddressList list)
    {
        foreach (var mailbox in list.Mailboxes)
        {
            recipients.Add(mailbox.Address);
        }
    }

    private static bool NeedsUtf8(MailboxAddress? mailbox) => mailbox is not null && !IsAscii(mailbox.LocalPart);

    private static bool NeedsUtf8(InternetAddressList list)
    {
        foreach (var mailbox in list.Mailboxes)
        {
            if (!IsAscii(mailbox.LocalPart))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsAscii(string value) => System.Text.Ascii.IsValid(value);
}
