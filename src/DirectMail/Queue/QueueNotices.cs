using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// The delivery status notifications of one delivery round of a claimed message (<see cref="MailQueueOptions.SendDeliveryStatusNotices"/>):
/// which of its recipients' outcomes the sender asked to hear of, and the one notice that reports them all.
/// </summary>
internal static class QueueNotices
{
    /// <summary>RFC 3463 X.4.7: delivery time expired, reported with <c>Action: failed</c>.</summary>
    private static readonly EnhancedStatusCode Expired = new(4, 4, 7);

    /// <summary>The notice for this round, or null when no recipient's outcome is to be told (or the sender is the null one).</summary>
    public static DeliveryStatusNotice? Build(QueueClaim claim, IReadOnlyList<MailQueueEvent> events, string reportingMta, DateTimeOffset now)
    {
        if (claim.Sender.Length == 0)
        {
            // Never to <>: a notice about a notice is how bounce loops start (RFC 3461 section 6.2).
            return null;
        }

        List<DsnRecipientReport>? reports = null;
        foreach (var e in events)
        {
            var recipient = Find(claim, e.RecipientIndex);
            if (recipient is null || Report(claim, recipient, e) is not { } report)
            {
                continue;
            }

            (reports ??= []).Add(report);
        }

        return reports is null ? null : new DeliveryStatusNotice(reportingMta, claim.Sender, reports)
        {
            EnvelopeId = claim.DsnEnvelopeId,
            ArrivalDate = claim.EnqueuedAt,
            // RFC 8689 section 5: a notice about a REQUIRETLS message is protected as the message was; it returns the header only.
            Return = claim.RequireTls ? DsnReturn.Headers : claim.DsnReturn ?? DsnReturn.Headers,
            Date = now,
        };
    }

    /// <summary>Writes the notice over the stored original and queues it as a message of its own, from the null sender.</summary>
    public static async Task<string> EnqueueAsync(MailQueue queue, IMailQueueStore store, QueueClaim claim, DeliveryStatusNotice notice, CancellationToken cancellationToken)
    {
        var original = await store.OpenContentAsync(claim.MessageId, cancellationToken).ConfigureAwait(false);
        await using (original.ConfigureAwait(false))
        {
            return await EnqueueAsync(queue, original, claim, notice, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes the notice over <paramref name="original"/> (the message as stored) and queues it from the null sender; for
    /// a REQUIRETLS message with REQUIRETLS too (RFC 8689 section 5: a notice must be protected as the message was).
    /// </summary>
    public static async Task<string> EnqueueAsync(MailQueue queue, Stream original, QueueClaim claim, DeliveryStatusNotice notice, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await notice.WriteToAsync(original, buffer, cancellationToken).ConfigureAwait(false);
        var content = SmtpContent.FromBytes(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        var envelope = notice.CreateEnvelope();
        if (claim.RequireTls)
        {
            envelope = new SmtpEnvelope(envelope.Sender, envelope.Recipients) { RequireTls = true };
        }

        return await queue.EnqueueAsync(envelope, content, cancellationToken).ConfigureAwait(false);
    }

    private static DsnRecipientReport? Report(QueueClaim claim, QueueClaimedRecipient recipient, MailQueueEvent e)
    {
        DsnAction action;
        EnhancedStatusCode status;
        // The server's reply, else the one DirectMail made (suppressed, REQUIRETLS unmet): its status is the outcome's.
        var reply = SmtpReply.FromStored(e.Attempt?.Reply) ?? e.LocalReply;
        switch (e.State)
        {
            case QueueRecipientState.Failed:
                action = DsnAction.Failed;
                status = reply?.EnhancedStatusCode is { Class: 5 } given ? given : new EnhancedStatusCode(5, 0, 0);
                break;
            case QueueRecipientState.Expired:
                action = DsnAction.Failed;
                status = Expired;
                break;
            case QueueRecipientState.Deferred when e.IsDelayed:
                action = DsnAction.Delayed;
                status = reply?.EnhancedStatusCode is { Class: 4 } transient ? transient : new EnhancedStatusCode(4, 0, 0);
                break;
            case QueueRecipientState.Delivered when e.IsRelayed:
                // RFC 3461 section 4.1 / RFC 3464 section 2.3.3: the next hop offers no DSN, so it will not tell of success.
                action = DsnAction.Relayed;
                status = reply?.EnhancedStatusCode is { Class: 2 } ok ? ok : new EnhancedStatusCode(2, 0, 0);
                break;
            default:
                // Delivered to a next hop that offers DSN: it was given NOTIFY and tells the sender itself (RFC 3461 section 4.1).
                return null;
        }

        if (!DeliveryStatusNotice.ShouldNotify(recipient.Notify, action))
        {
            return null;
        }

        return new DsnRecipientReport(recipient.Address, action, status)
        {
            OriginalRecipient = recipient.OriginalRecipient,
            RemoteMta = e.Attempt?.MxHost,
            Reply = reply,
            LastAttemptDate = e.Attempt?.StartedAt,
            WillRetryUntil = action == DsnAction.Delayed ? claim.ExpiresAt : null,
            Detail = e.Detail ?? e.Attempt?.Detail,
        };
    }

    private static QueueClaimedRecipient? Find(QueueClaim claim, int index)
    {
        foreach (var r in claim.Recipients)
        {
            if (r.Index == index)
            {
                return r;
            }
        }

        return null;
    }
}
