using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Dsn;
using DirectMail.Queue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Suppression;

/// <summary>
/// Takes the bounces that come back (a message received at the bounce address, as bytes or a stream): parses it
/// (<see cref="BounceParser"/>), correlates it with what was sent, and adds each hard-bounced recipient
/// (<see cref="BounceRecipient.IsHardBounce"/>: invalid or disabled mailbox, no such domain) to the suppression list.
/// Soft bounces (a full mailbox, a policy block, a delay) are reported and not suppressed. Thread-safe.
/// </summary>
/// <remarks>
/// Correlation, in order: the VERP address the bounce was sent to (<see cref="VerpAddress"/>, the envelope recipient
/// or the bounce's <c>To</c>) names the queue id and the recipient; else the <c>Original-Envelope-Id</c> is looked up as
/// a queue id; else the original's <c>Message-ID</c> (<see cref="BounceReport.OriginalMessageId"/>) is looked up in the
/// queue's Message-ID index (<see cref="IMailQueue.FindByInternetMessageIdAsync"/>), taking the message that holds a
/// bounced recipient (or the only one); within the queued message a recipient is matched by its address or its ORCPT. A bounce is anyone's to
/// forge: with <see cref="RequireCorrelation"/> only recipients of a message the queue holds are suppressed.
/// </remarks>
public sealed class BounceIngester
{
    private readonly ISuppressionStore _store;
    private readonly IMailQueue? _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the intake.</summary>
    /// <param name="store">The suppression list to add to.</param>
    /// <param name="queue">The queue to correlate bounces with; null for none (then only VERP addresses name recipients).</param>
    /// <param name="loggerFactory">For the logs; null for none.</param>
    /// <param name="timeProvider">The clock of the entries' times; null for the system's.</param>
    public BounceIngester(ISuppressionStore store, IMailQueue? queue = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _queue = queue;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DirectMail.Suppression");
    }

    /// <summary>The VERP prefix the mailer's addresses are made with (<see cref="VerpOptions.Prefix"/>). Default <c>bounces</c>.</summary>
    public string VerpPrefix { get; init; } = "bounces";

    /// <summary>
    /// Suppress only recipients correlated with a message the queue holds (a forged bounce then suppresses nobody).
    /// Default false: every hard bounce is taken at its word. Needs a queue.
    /// </summary>
    public bool RequireCorrelation { get; init; }

    /// <summary>Reads a received message from a stream (up to <see cref="BounceParser.MaxMessageSize"/> octets) and feeds the list.</summary>
    /// <param name="message">The whole message; read to its end, not disposed.</param>
    /// <param name="envelopeRecipient">The address it was received for (RCPT TO: the VERP address), when known; null to use its <c>To</c>.</param>
    /// <param name="cancellationToken">Cancels the read and the writes.</param>
    /// <returns>What was found and done.</returns>
    /// <exception cref="BounceParseException">The message is larger than <see cref="BounceParser.MaxMessageSize"/>.</exception>
    public async Task<BounceIngestResult> IngestAsync(Stream message, string? envelopeRecipient = null, CancellationToken cancellationToken = default)
    {
        var report = await BounceParser.ParseAsync(message, cancellationToken).ConfigureAwait(false);
        return await IngestAsync(report, envelopeRecipient, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a received message and feeds the list.</summary>
    /// <param name="message">The whole message, header and body.</param>
    /// <param name="envelopeRecipient">The address it was received for (RCPT TO: the VERP address), when known; null to use its <c>To</c>.</param>
    /// <param name="cancellationToken">Cancels the writes.</param>
    /// <returns>What was found and done.</returns>
    /// <exception cref="BounceParseException">The message is larger than <see cref="BounceParser.MaxMessageSize"/>.</exception>
    public Task<BounceIngestResult> IngestAsync(ReadOnlyMemory<byte> message, string? envelopeRecipient = null, CancellationToken cancellationToken = default)
        => IngestAsync(BounceParser.Parse(message.Span), envelopeRecipient, cancellationToken);

    /// <summary>Correlates a bounce already parsed and feeds the list.</summary>
    /// <param name="report">The bounce.</param>
    /// <param name="envelopeRecipient">The address it was received for (RCPT TO: the VERP address), when known; null to use its <c>To</c>.</param>
    /// <param name="cancellationToken">Cancels the writes.</param>
    /// <returns>What was found and done.</returns>
    public async Task<BounceIngestResult> IngestAsync(BounceReport report, string? envelopeRecipient = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Kind == BounceKind.NotABounce)
        {
            return new BounceIngestResult(report, null, null, []);
        }

        string? tag = null, verpRecipient = null;
        if (VerpAddress.TryDecode(envelopeRecipient, VerpPrefix, out var t, out var r) || VerpAddress.TryDecode(report.To, VerpPrefix, out t, out r))
        {
            tag = t;
            verpRecipient = r;
        }

        var message = await FindMessageAsync(tag, cancellationToken).ConfigureAwait(false)
            ?? await FindMessageAsync(report.EnvelopeId, cancellationToken).ConfigureAwait(false)
            ?? await FindByMessageIdAsync(report, verpRecipient, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var recipients = new List<BounceIngestRecipient>(report.Recipients.Count);
        foreach (var bounced in report.Recipients)
        {
            var matched = message is null ? null : Match(message, bounced, report.Recipients.Count == 1 ? verpRecipient : null);
            var address = matched?.Address
                ?? (report.Recipients.Count == 1 || Same(verpRecipient, bounced.Address) ? verpRecipient : null)
                ?? bounced.OriginalRecipient
                ?? bounced.Address;
            var suppressed = false;
            if (bounced.IsHardBounce && (matched is not null || !RequireCorrelation))
            {
                suppressed = await SuppressAsync(address, bounced, message?.MessageId ?? tag, report.OriginalMessageId, now, cancellationToken).ConfigureAwait(false);
            }
            else if (bounced.IsHardBounce)
            {
                SuppressionLog.NotCorrelated(_logger, bounced.Address);
            }

            recipients.Add(new BounceIngestRecipient(bounced, address, matched?.Index, suppressed));
        }

        var result = new BounceIngestResult(report, message?.MessageId, verpRecipient, recipients);
        SuppressionLog.Ingested(_logger, report.Kind, recipients.Count, result.QueueId, result.SuppressedCount);
        return result;
    }

    private async Task<bool> SuppressAsync(string address, BounceRecipient bounced, string? queueId, string? messageId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        SuppressedRecipient entry;
        try
        {
            entry = new SuppressedRecipient(address, SuppressionSource.Bounce, now)
            {
                Classification = bounced.Classification,
                Status = bounced.Status,
                Diagnostic = bounced.Diagnostic is null ? null : SuppressionCheck.OneLine(bounced.Diagnostic),
                QueueId = queueId,
                MessageId = messageId,
            };
        }
        catch (ArgumentException)
        {
            // What the bounce names is not an address that could be sent to: nothing to suppress.
            return false;
        }

        await _store.AddAsync(entry, cancellationToken).ConfigureAwait(false);
        SuppressionLog.Added(_logger, entry.Address, entry.Source, entry.Classification, entry.Status?.ToString());
        return true;
    }

    private async Task<QueuedMessage?> FindMessageAsync(string? queueId, CancellationToken cancellationToken)
    {
        if (_queue is null || string.IsNullOrEmpty(queueId) || queueId.Length > 64)
        {
            return null;
        }

        foreach (var c in queueId)
        {
            // Queue ids are letters and digits: anything else (an application's own ENVID) is not one.
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return null;
            }
        }

        return await _queue.GetAsync(queueId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The queued message whose content had the bounce's original Message-ID: the first (oldest) that holds one of the
    /// bounced recipients, else the only one; null when none, or several and none holds them.
    /// </summary>
    private async Task<QueuedMessage?> FindByMessageIdAsync(BounceReport report, string? verpRecipient, CancellationToken cancellationToken)
    {
        if (_queue is null || string.IsNullOrEmpty(report.OriginalMessageId) || report.OriginalMessageId.Length > QueueEntry.MaxInternetMessageIdLength)
        {
            return null;
        }

        var ids = await _queue.FindByInternetMessageIdAsync(report.OriginalMessageId, cancellationToken).ConfigureAwait(false);
        QueuedMessage? only = null;
        foreach (var id in ids)
        {
            if (await _queue.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } message)
            {
                continue;
            }

            foreach (var bounced in report.Recipients)
            {
                if (Match(message, bounced, report.Recipients.Count == 1 ? verpRecipient : null) is not null)
                {
                    return message;
                }
            }

            only = ids.Count == 1 ? message : null;
        }

        return only;
    }

    /// <summary>The queued recipient the bounced one is: by address, by ORCPT, or (a bounce of one recipient) the one its VERP address names.</summary>
    private static QueuedRecipient? Match(QueuedMessage message, BounceRecipient bounced, string? verpRecipient)
    {
        foreach (var candidate in new[] { bounced.Address, bounced.OriginalRecipient, verpRecipient })
        {
            if (candidate is null)
            {
                continue;
            }

            foreach (var queued in message.Recipients)
            {
                if (Same(queued.Address, candidate) || Same(queued.OriginalRecipient, candidate))
                {
                    return queued;
                }
            }
        }

        return null;
    }

    private static bool Same(string? a, string? b)
    {
        if (a is null || b is null)
        {
            return false;
        }

        try
        {
            return string.Equals(SuppressionAddress.Normalize(a), SuppressionAddress.Normalize(b), StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
