using System;
using System.Collections.Concurrent;

namespace DirectMail.Queue;

/// <summary>
/// What the worker remembers of destinations (a recipient domain's MX host set), across messages: one that could not
/// be reached at all, or that rate-limited us, is left alone until its next retry time, and every other message for it
/// is deferred to that time without a connection (Exim's per-host retry rule: 10,000 messages for a dead MX make one
/// attempt, not 10,000). Per process: instances sharing a store each learn for themselves. (The per-destination
/// limits are <see cref="DestinationLimitRules"/> and an <see cref="IQueueLimitStore"/>.)
/// </summary>
internal sealed class DestinationMemory
{
    private readonly ConcurrentDictionary<string, Unavailable> _unavailable = new(StringComparer.Ordinal);

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

    private sealed record Unavailable(DateTimeOffset Until, string Reason);
}
