using System;
using System.Collections.Generic;

namespace DirectMail.Routing;

/// <summary>
/// Which way mail goes (<c>DirectMail:Routes</c>): <c>"Direct"</c>, to the recipient domain's MX hosts, or the name of a
/// relay in <see cref="Delivery.DirectMailOptions.Relays"/>, whose hosts take it instead (no MX lookup). A sender domain's
/// route comes first, then the recipient domain's, then <see cref="Default"/>. With a direct route, a relay can still
/// take what the MX hosts did not (<see cref="FallbackRelay"/>, <see cref="PortBlockedRelay"/>).
/// </summary>
public sealed class DeliveryRouteOptions
{
    /// <summary>The route's name for delivery to the MX hosts.</summary>
    public const string Direct = "Direct";

    /// <summary>The route of every recipient domain not listed in <see cref="Domains"/>. Default <see cref="Direct"/>.</summary>
    public string Default { get; set; } = Direct;

    /// <summary>Routes per recipient domain (<c>"example.org": "corp"</c>); a domain matches itself only, not its subdomains.</summary>
    public Dictionary<string, string> Domains { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Routes per sender domain (the envelope sender's), before the recipient domain's: a relay per tenant, so that each
    /// sends through its own provider.
    /// </summary>
    public Dictionary<string, string> SenderDomains { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A relay for recipients that stay transiently refused after every MX host was tried, or whose domain has no reachable
    /// MX (as Postfix's <c>smtp_fallback_relay</c>). Never after a permanent 5xx, and never for a domain whose MX hosts are
    /// the relay itself (a loop). Null (default): none.
    /// </summary>
    public string? FallbackRelay { get; set; }

    /// <summary>
    /// A relay taken when every connection to port 25 timed out (outbound port 25 blocked, as on most clouds and home
    /// networks): the recipients of that attempt go through it at once, and every send goes through it for
    /// <see cref="PortBlockedRelayDuration"/>, after which direct delivery is tried again. Null (default): none.
    /// </summary>
    public string? PortBlockedRelay { get; set; }

    /// <summary>How long mail goes through <see cref="PortBlockedRelay"/> before direct delivery is probed again. Default 30 minutes.</summary>
    public TimeSpan PortBlockedRelayDuration { get; set; } = TimeSpan.FromMinutes(30);

    internal DeliveryRouteOptions Copy()
    {
        var copy = (DeliveryRouteOptions)MemberwiseClone();
        copy.Domains = new Dictionary<string, string>(Domains, StringComparer.OrdinalIgnoreCase);
        copy.SenderDomains = new Dictionary<string, string>(SenderDomains, StringComparer.OrdinalIgnoreCase);
        return copy;
    }
}
