using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;

namespace DirectMail.Delivery;

/// <summary>
/// MX addresses that answered 421 (service closing, RFC 5321 section 3.8), left alone for a while across all SendAsync
/// calls so that an overloaded server is not hammered. Expired entries are dropped when checked and whenever another
/// address is marked, so only addresses that answered 421 within the backoff time are kept.
/// </summary>
internal sealed class HostBackoff(TimeProvider time, TimeSpan duration)
{
    private readonly ConcurrentDictionary<IPEndPoint, long> _until = new();

    /// <summary>How many addresses are kept (backing off, or expired and not yet swept).</summary>
    internal int Count => _until.Count;

    public DateTimeOffset Mark(IPEndPoint endPoint)
    {
        // Rare (a 421): the moment to forget the addresses whose backoff is over.
        var now = time.GetTimestamp();
        foreach (var entry in _until)
        {
            if (now >= entry.Value)
            {
                _until.TryRemove(entry);
            }
        }

        _until[endPoint] = now + (long)(duration.TotalSeconds * time.TimestampFrequency);
        return time.GetUtcNow() + duration;
    }

    public bool IsBackingOff(IPEndPoint endPoint)
    {
        if (!_until.TryGetValue(endPoint, out var until))
        {
            return false;
        }

        if (time.GetTimestamp() < until)
        {
            return true;
        }

        _until.TryRemove(new KeyValuePair<IPEndPoint, long>(endPoint, until));
        return false;
    }
}
