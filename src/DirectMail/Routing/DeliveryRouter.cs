using System;
using System.Collections.Generic;
using System.Threading;
using DirectMail.Smtp;

namespace DirectMail.Routing;

/// <summary>
/// Decides the way of each recipient domain of a send (<see cref="DeliveryRouteOptions"/>): a sender domain's route,
/// the recipient domain's, the default; and, while connections to port 25 are known to time out, the port-blocked
/// relay instead of direct delivery until the time to probe again. Thread-safe; one per mailer.
/// </summary>
internal sealed class DeliveryRouter
{
    private readonly RelayTarget? _default;
    private readonly Dictionary<string, RelayTarget?> _domains = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RelayTarget?> _senders = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeSpan _portBlockedDuration;
    private readonly TimeProvider _time;
    private long _directBlockedUntil;

    public DeliveryRouter(DeliveryRouteOptions routes, IReadOnlyDictionary<string, RelayTarget> relays, TimeProvider time)
    {
        _time = time;
        _portBlockedDuration = routes.PortBlockedRelayDuration;
        _default = Find(routes.Default, relays);
        foreach (var (domain, route) in routes.Domains)
        {
            _domains[domain.TrimEnd('.')] = Find(route, relays);
        }

        foreach (var (domain, route) in routes.SenderDomains)
        {
            _senders[domain.TrimEnd('.')] = Find(route, relays);
        }

        Fallback = routes.FallbackRelay is { } fallback ? Find(fallback, relays) : null;
        PortBlocked = routes.PortBlockedRelay is { } blocked ? Find(blocked, relays) : null;
    }

    /// <summary><see cref="DeliveryRouteOptions.FallbackRelay"/>, or null.</summary>
    public RelayTarget? Fallback { get; }

    /// <summary><see cref="DeliveryRouteOptions.PortBlockedRelay"/>, or null.</summary>
    public RelayTarget? PortBlocked { get; }

    /// <summary>True while sends skip direct delivery because port 25 was found blocked.</summary>
    public bool IsDirectBlocked => PortBlocked is not null && _time.GetTimestamp() < Volatile.Read(ref _directBlockedUntil);

    /// <summary>The way to <paramref name="recipientDomain"/> for mail from <paramref name="senderDomain"/>: a relay (and why), or direct (null).</summary>
    public (RelayTarget? Relay, DeliveryRoute Route) Choose(string senderDomain, string recipientDomain)
    {
        RelayTarget? relay;
        if (!_senders.TryGetValue(senderDomain, out relay) && !_domains.TryGetValue(recipientDomain, out relay))
        {
            relay = _default;
        }

        if (relay is not null)
        {
            return (relay, DeliveryRoute.Relay);
        }

        return IsDirectBlocked ? (PortBlocked, DeliveryRoute.PortBlockedRelay) : (null, DeliveryRoute.Direct);
    }

    /// <summary>Every connection of a send to port 25 timed out: direct routes go through the port-blocked relay for a while.</summary>
    /// <returns>True when a port-blocked relay is configured (and is now in use).</returns>
    public bool DirectTimedOut()
    {
        if (PortBlocked is null)
        {
            return false;
        }

        Volatile.Write(ref _directBlockedUntil, _time.GetTimestamp() + (long)(_portBlockedDuration.TotalSeconds * _time.TimestampFrequency));
        return true;
    }

    /// <summary>The domain part of a sender address as routes name it: lower case, without the root dot; empty for the null sender.</summary>
    public static string SenderDomain(string sender)
    {
        var at = sender.LastIndexOf('@');
        return at < 0 ? string.Empty : sender[(at + 1)..].TrimEnd('.').ToLowerInvariant();
    }

    /// <summary>The relay a route names; null for <see cref="DeliveryRouteOptions.Direct"/>. Names were checked by the options' validation.</summary>
    private static RelayTarget? Find(string route, IReadOnlyDictionary<string, RelayTarget> relays) =>
        string.Equals(route, DeliveryRouteOptions.Direct, StringComparison.OrdinalIgnoreCase) ? null : relays[route];
}
