using System;
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

    // Several queues in one process (rare: one per store) are summed, the oldest age is the oldest of all: an observable
    // instrument keeps one value per attribute set, so measurements with the same attributes would overwrite each other.

    public static IEnumerable<Measurement<long>> ObserveDepth()
    {
        var byState = new Dictionary<QueueRecipientState, long>();
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
                    byState[state] = byState.GetValueOrDefault(state) + count;
                }
            }
        }

        var measurements = new List<Measurement<long>>(byState.Count);
        foreach (var (state, count) in byState)
        {
            measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>(Diagnostics.DirectMailTelemetry.QueueRecipientStateAttribute, StateName(state))));
        }

        return measurements;
    }

    public static IEnumerable<Measurement<long>> ObservePendingMessages()
    {
        long? messages = null;
        lock (Queues)
        {
            foreach (var queue in Queues)
            {
                if (queue.CachedStatistics is { } statistics)
                {
                    messages = (messages ?? 0) + statistics.Messages;
                }
            }
        }

        return messages is { } total ? [new Measurement<long>(total)] : [];
    }

    public static IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        double? oldestAge = null;
        lock (Queues)
        {
            foreach (var queue in Queues)
            {
                if (queue.CachedStatistics is { OldestPendingEnqueuedAt: { } oldest })
                {
                    var age = (queue.Time.GetUtcNow() - oldest).TotalSeconds;
                    oldestAge = Math.Max(oldestAge ?? age, age);
                }
            }
        }

        return oldestAge is { } seconds ? [new Measurement<double>(seconds)] : [];
    }
}
