namespace DirectMail.Routing;

/// <summary>Which way a recipient's message went (<see cref="Delivery.RecipientDelivery.Route"/>).</summary>
public enum DeliveryRoute
{
    /// <summary>To the recipient domain's MX hosts.</summary>
    Direct,

    /// <summary>Through the relay its route names (<see cref="DeliveryRouteOptions.Default"/>, a domain's or a sender domain's route).</summary>
    Relay,

    /// <summary>Through <see cref="DeliveryRouteOptions.FallbackRelay"/>, after the MX hosts left it transiently refused or none was reachable.</summary>
    FallbackRelay,

    /// <summary>Through <see cref="DeliveryRouteOptions.PortBlockedRelay"/>, because connections to port 25 time out.</summary>
    PortBlockedRelay,
}
