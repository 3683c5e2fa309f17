using System;
using System.Collections.Concurrent;

namespace DirectMail.Queue;

/// <summary>
/// What the worker remembers of destinations (a recipient domain's MX host set), across messages: one that could not
/// be reached at all, or that rate-limited us, is left alone until its next retry time, and every other message for it
/// is deferred to that time without a connection (Exim's per-host retry rule: 10,000 messages for a dead MX make one
/// attempt, not 10,000). Also the per-destination token bucket of <see cref="MailQueueOptions.MaxMessagesPerSecondPerDestination"/>.
/// Per process: instances sharing a store each learn for themselves.
/// </summary>
internal sealed class DestinationMemory(TimeProvider time, double messagesPerSecond)
{
    private readonly ConcurrentDictionary<string, Unavailable> _unavailable = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>How many destinations are remembered as unavailable (expired entries included until looked at).</summary>
    public int Count => _unavailable.Count;

    /// <summary>Leaves a destination alone until <paramref name="until"/> (the later time wins when it is marked twice).</summary>
    public void MarkUnavailable(string destination, DateTimeOffset until, string reason)
    {
        _unavailable.AddOrUpdate(destination, static (_, s) => new Unavailable(s.until, s.reason), static (_, old, s) => old.Until >= s.until ? old : new Unavailable(s.until, s.reason), (until, reason));
    }

    /// <summary>True, with its retry time and why, while a destination is to be left alone.</summary>
    public bool IsUnavailable(string destination, DateTimeOffset now, out DateTimeOffset until, out string reason)
    {
        if (_unavailable.TryGetValue(destination, out var entry))
        {
            if (now < entry.Until)
            {
                until = entry.Until;
                reason = entry.Reason;
                return true;
            }

            // Its time came: the next message tries it (and marks it again if it is still down).
            _unavailable.TryRemove(new(destination, entry));
        }

        until = default;
        reason = string.Empty;
        return false;
    }

    /// <summary>Forgets a destination that answered.</summary>
    public void MarkAvailable(string destination) => _unavailable.TryRemove(destination, out _);

    /// <summary>Takes a token for one message to the destination; returns how long to wait first (zero without a limit).</summary>
    public TimeSpan TakeToken(string destination)
    {
        if (messagesPerSecond <= 0)
        {
            return TimeSpan.Zero;
        }

        var bucket = _buckets.GetOrAdd(destination, static (_, s) => new Bucket(s.time.GetTimestamp(), Math.Max(1, s.messagesPerSecond)), (time, messagesPerSecond));
        lock (bucket)
        {
            // Refill at the rate, up to one second's worth (at least one message); a negative balance is a queue of waiters.
            var now = time.GetTimestamp();
            var capacity = Math.Max(1, messagesPerSecond);
            var elapsed = (double)(now - bucket.Stamp) / time.TimestampFrequency;
            bucket.Tokens = Math.Min(capacity, bucket.Tokens + (elapsed * messagesPerSecond));
            bucket.Stamp = now;
            bucket.Tokens -= 1;
            return bucket.Tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-bucket.Tokens / messagesPerSecond);
        }
    }

    private sealed record Unavailable(DateTimeOffset Until, string Reason);

    private sealed class Bucket(long stamp, double tokens)
    {
        public long Stamp { get; set; } = stamp;

        public double Tokens { get; set; } = tokens;
    }
}
