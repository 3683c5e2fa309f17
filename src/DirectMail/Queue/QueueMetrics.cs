using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace DirectMail.Queue;

/// <summary>
/// The live queues of the process, for the observable gauges of <see cref="Diagnostics.DirectMailTelemetry"/>: each
/// reports its last statistics read (no store query per collection).
/// </summary>
internal static class QueueMetrics
{
    private static readonly List<MailQueue> Queues = new();

    public static void Register(MailQueue queue)
    {
        lock (Queues)
        {
            Queues.Add(queue);
        }
    }

    public static void Unregister(MailQueue queue)
    {
        lock (Queues)
        {
            Queues.Remove(queue);
        }
    }

    public static string StateName(QueueRecipientState state) => state switch
    {
        QueueRecipientState.Queued => "queued",
        QueueRecipientState.Deferred => "deferred",
        QueueRecipientState.InFlight => "in_flight",
        QueueRecipientState.Delivered => "delivered",
        QueueRecipientState.Failed => "failed",
        QueueRecipientState.Expired => "expired",
        QueueRecipientState.Held => "held",
        _ => "in_doubt",
    };

    public static IEnumerable<Measurement<long>> ObserveDepth()
    {
        var measurements = new List<Measurement<long>>();
        lock (Queues)
        {
            foreach (var queue in Queues)
            {
                if (queue.CachedStatistics is not { } statistics)
                {
                    continue;
                }

                foreach (var (state, count) in statistics.RecipientsByState)
                {
                    measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>(Diagnostics.DirectMailTelemetry.QueueRecipientStateAttribute, StateName(state))));
                }
            }
        }

        return measurements;
    }

    public static IEnumerable<Measurement<long>> ObservePendingMessages()
    {
        var measurements = new List<Measurement<long>>();
        lock (Queues)
        {
            foreach (var queue in Queues)
            {
                if (queue.CachedStatistics is { } statistics)
                {
                    measurements.Add(new Measurement<long>(statistics.Messages));
                }
            }
        }

        return measurements;
    }

    public static IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        var measurements = new List<Measurement<double>>();
        lock (Queues)
        {
            foreach (var queue in Queues)
            {
                if (queue.CachedStatistics is { OldestPendingEnqueuedAt: { } oldest })
                {
                    measurements.Add(new Measurement<double>((queue.Time.GetUtcNow() - oldest).TotalSeconds));
                }
            }
        }

        return measurements;
    }
}
