using System.Collections.Generic;
using DirectMail.Dsn;

namespace DirectMail.Suppression;

/// <summary>What <see cref="BounceIngester"/> made of one received message.</summary>
public sealed class BounceIngestResult
{
    internal BounceIngestResult(BounceReport report, string? queueId, string? verpRecipient, IReadOnlyList<BounceIngestRecipient> recipients)
    {
        Report = report;
        QueueId = queueId;
        VerpRecipient = verpRecipient;
        Recipients = recipients;
    }

    /// <summary>The parsed bounce.</summary>
    public BounceReport Report { get; }

    /// <summary>The queued message the bounce is about (found by its VERP address's tag, its <c>Original-Envelope-Id</c>, or the original's <c>Message-ID</c>), or null.</summary>
    public string? QueueId { get; }

    /// <summary>The recipient the VERP address it was sent to names, or null when it was not sent to one.</summary>
    public string? VerpRecipient { get; }

    /// <summary>Each recipient the bounce reports, in its order.</summary>
    public IReadOnlyList<BounceIngestRecipient> Recipients { get; }

    /// <summary>How many recipients were added to the suppression list.</summary>
    public int SuppressedCount
    {
        get
        {
            var count = 0;
            foreach (var r in Recipients)
            {
                count += r.Suppressed ? 1 : 0;
            }

            return count;
        }
    }
}
