namespace DirectMail.Delivery;

/// <summary>What became of one recipient.</summary>
public enum DeliveryStatus
{
    /// <summary>A receiving server accepted the message for this recipient.</summary>
    Delivered,

    /// <summary>Not delivered now, for a reason that may pass (4xx, unreachable hosts, DNS failure): queue it and try again later.</summary>
    Deferred,

    /// <summary>Not delivered, for a reason that will not pass (5xx, no such domain, null MX): do not try again.</summary>
    Failed,
}
