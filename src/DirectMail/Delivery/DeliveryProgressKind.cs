namespace DirectMail.Delivery;

/// <summary>What a <see cref="DeliveryProgress"/> reports as settled.</summary>
public enum DeliveryProgressKind
{
    /// <summary>A recipient domain's MX lookup finished (<see cref="DeliveryProgress.Resolution"/>, a success or a failure). Not reported for a domain routed to a relay, which is not looked up.</summary>
    DomainResolved,

    /// <summary>A recipient's outcome is final (<see cref="DeliveryProgress.Recipient"/>). Reported exactly once per recipient of the envelope.</summary>
    RecipientSettled,

    /// <summary>Every recipient of a domain is settled (<see cref="DeliveryProgress.Delivered"/>, <see cref="DeliveryProgress.Deferred"/>, <see cref="DeliveryProgress.Failed"/>). Reported exactly once per recipient domain, after its recipients.</summary>
    DomainSettled,
}
