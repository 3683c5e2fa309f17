using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Queue;

/// <summary>
/// The limits of one worker, in memory, for a store that does not share them (<see cref="IQueueLimitStore"/> not
/// implemented): the same token buckets and connection slots, enforced within this process only. Thread-safe.
/// </summary>
internal sealed class InProcessLimitStore : IQueueLimitStore
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Dictionary<string, DateTimeOffset>> _slots = new(StringComparer.Ordinal);

    /// <summary>How many keys have a bucket (tests: buckets of keys without a rate are never made).</summary>
    public int BucketCount => _buckets.Count;

    public ValueTask<TimeSpan> TakeMessageTokenAsync(string key, double messagesPerSecond, double burst, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var bucket = _buckets.GetOrAdd(key, static (_, s) => new Bucket(s.now, s.burst), (now, burst));
        lock (bucket)
        {
            // Refill at the rate up to the burst; a negative balance is a queue of waiters, each told its turn.
            var elapsed = now > bucket.Stamp ? (now - bucket.Stamp).TotalSeconds : 0;
            bucket.Tokens = Math.Min(burst, bucket.Tokens + (elapsed * messagesPerSecond)) - 1;
            if (now > bucket.Stamp)
            {
                bucket.Stamp = now;
            }

            return new ValueTask<TimeSpan>(bucket.Tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-bucket.Tokens / messagesPerSecond));
        }
    }

    public ValueTask<bool> TryAcquireConnectionSlotAsync(string key, int maxConnections, string holder, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var holders = _slots.GetOrAdd(key, static _ => new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal));
        lock (holders)
        {
            if (holders.ContainsKey(holder))
            {
                holders[holder] = leaseUntil; // a renewal
                return new ValueTask<bool>(true);
            }

            if (holders.Count >= maxConnections)
            {
                List<string>? expired = null;
                foreach (var (who, until) in holders)
                {
                    if (until <= now)
                    {
                        (expired ??= new List<string>()).Add(who);
                    }
                }

                foreach (var who in expired ?? [])
                {
                    holders.Remove(who);
                }

                if (holders.Count >= maxConnections)
                {
                    return new ValueTask<bool>(false);
                }
            }

            holders.Add(holder, leaseUntil);
            return new ValueTask<bool>(true);
        }
    }

    public ValueTask ReleaseConnectionSlotAsync(string key, string holder, CancellationToken cancellationToken)
    {
        if (_slots.TryGetValue(key, out var holders))
        {
            lock (holders)
            {
                holders.Remove(holder);
            }
        }

        return ValueTask.CompletedTask;
    }

    private sealed class Bucket(DateTimeOffset stamp, double tokens)
    {
        public DateTimeOffset Stamp { get; set; } = stamp;

        public double Tokens { get; set; } = tokens;
    }
}
