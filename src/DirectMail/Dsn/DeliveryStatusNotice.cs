using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Mime;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>
/// A delivery status notification to send back to a message's sender (RFC 3464, RFC 6533 for internationalised
/// mail): <c>multipart/report; report-type=delivery-status</c> with a part a person reads, the machine-readable
/// <c>message/delivery-status</c>, and the original's header (or, with <see cref="DsnReturn.Full"/>, the whole
/// original). It goes from the null reverse path (<see cref="CreateEnvelope"/>) with <c>Auto-Submitted: auto-replied</c>,
/// one notice per message for all the recipients it reports.
/// </summary>
public sealed class DeliveryStatusNotice
{
    /// <summary>Creates a notice.</summary>
    /// <param name="reportingMta">The host name of the server that reports (<c>Reporting-MTA: dns; ...</c>), usually the HELO name.</param>
    /// <param name="originalSender">The original message's envelope sender: where the notice goes. Never empty: a message from the null sender gets no notice.</param>
    /// <param name="recipients">The recipients the notice reports, at least one.</param>
    /// <exception cref="ArgumentException">A value holds a control character, the sender is empty, or there is no recipient.</exception>
    public DeliveryStatusNotice(string reportingMta, string originalSender, IReadOnlyList<DsnRecipientReport> recipients)
    {
        ArgumentException.ThrowIfNullOrEmpty(reportingMta);
        ArgumentNullException.ThrowIfNull(originalSender);
        ArgumentNullException.ThrowIfNull(recipients);
        if (originalSender.Length == 0)
        {
            throw new ArgumentException("A message from the null reverse path (<>) gets no notification (RFC 3461 section 6.2; RFC 5321 section 4.5.5).", nameof(originalSender));
        }

        if (recipients.Count == 0)
        {
            throw new ArgumentException("A notice reports at least one recipient.", nameof(recipients));
        }

        DeliveryStatusWriter.CheckField(reportingMta, nameof(reportingMta), allowSpace: false);
        SmtpSyntax.NormalizeMailbox(originalSender, nameof(originalSender), allowEmpty: false, out _);
        foreach (var recipient in recipients)
        {
            ArgumentNullException.ThrowIfNull(recipient, nameof(recipients));
        }

        ReportingMta = reportingMta;
        OriginalSender = originalSender;
        Recipients = recipients;
    }

    /// <summary>The host name of the server that reports.</summary>
    public string ReportingMta { get; }

    /// <summary>Where the notice goes: the original message's envelope sender.</summary>
    public string OriginalSender { get; }

    /// <summary>The recipients the notice reports.</summary>
    public IReadOnlyList<DsnRecipientReport> Recipients { get; }

    /// <summary>The original message's envelope id (its ENVID, <c>Original-Envelope-Id</c>), or null.</summary>
    public string? EnvelopeId
    {
        get;
        init
        {
            if (value is not null)
            {
                DeliveryStatusWriter.CheckField(value, nameof(value), allowSpace: true);
            }

            field = value;
        }
    }

    /// <summary>When the original message arrived (was enqueued, <c>Arrival-Date</c>), or null.</summary>
    public DateTimeOffset? ArrivalDate { get; init; }

    /// <summary>
    /// How much of the original to return: its header (default: no body travels back, whatever it held) or, with
    /// <see cref="DsnReturn.Full"/> (the sender's <c>RET=FULL</c>), the whole message.
    /// </summary>
    public DsnReturn Return { get; init; } = DsnReturn.Headers;

    /// <summary>The notice's <c>Date</c>; now when not set.</summary>
    public DateTimeOffset? Date { get; init; }

    /// <summary>The notice's <c>Message-ID</c> without angle brackets; a new one at <see cref="ReportingMta"/> when not set.</summary>
    public string? MessageId { get; init; }

    /// <summary>
    /// True when the notice needs SMTPUTF8: the sender, a recipient or an original recipient is not ASCII. The report
    /// is then <c>message/global-delivery-status</c> (RFC 6533).
    /// </summary>
    public bool RequiresSmtpUtf8 => DeliveryStatusWriter.NeedsUtf8(this);

    /// <summary>
    /// Whether a recipient that asked <paramref name="notify"/> is to be told of <paramref name="action"/> (RFC 3461
    /// section 4.1): never for NEVER; without a NOTIFY, of failures and delays; otherwise as it asked.
    /// </summary>
    /// <param name="notify">The recipient's NOTIFY.</param>
    /// <param name="action">What happened.</param>
    public static bool ShouldNotify(DsnNotify notify, DsnAction action) => notify switch
    {
        DsnNotify.Never => false,
        DsnNotify.Default => action is DsnAction.Failed or DsnAction.Delayed,
        _ => action switch
        {
            DsnAction.Failed => (notify & DsnNotify.Failure) != 0,
            DsnAction.Delayed => (notify & DsnNotify.Delay) != 0,
            _ => (notify & DsnNotify.Success) != 0,
        },
    };

    /// <summary>The notice's envelope: from the null reverse path to <see cref="OriginalSender"/>, so that it never causes a notice itself.</summary>
    public SmtpEnvelope CreateEnvelope() => new(string.Empty, OriginalSender);

    /// <summary>
    /// Writes the notice: its header, the three parts, and the original's header (or all of it) copied from
    /// <paramref name="original"/>, which holds the message as it was sent (CRLF line ends).
    /// </summary>
    /// <param name="original">The original message, read from its start once; not disposed.</param>
    /// <param name="destination">Where the notice is written, with CRLF line ends; not disposed.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The notice's body type: 8-bit when the returned original holds 8-bit octets, so a server must offer 8BITMIME.</returns>
    public Task<SmtpBodyType> WriteToAsync(Stream original, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(destination);
        return new DeliveryStatusWriter(this, MimeRandom.Shared).WriteAsync(original, destination, cancellationToken);
    }

    /// <summary>The notice as content to send (through <c>SendAsync</c> with <see cref="CreateEnvelope"/>, or the queue).</summary>
    /// <param name="original">The original message as it was sent.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task<SmtpContent> ToContentAsync(ReadOnlyMemory<byte> original, CancellationToken cancellationToken = default)
    {
        using var source = new MemoryStream(original.ToArray(), writable: false);
        var buffer = new MemoryStream();
        await WriteToAsync(source, buffer, cancellationToken).ConfigureAwait(false);

        // Scanned as any content is: 8-bit octets and UTF-8 in the header decide BODY=8BITMIME and SMTPUTF8.
        return SmtpContent.FromBytes(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }
}
