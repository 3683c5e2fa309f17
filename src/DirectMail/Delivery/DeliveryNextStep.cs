namespace DirectMail.Delivery;

/// <summary>What the delivery to one domain should do after a round over its MX addresses.</summary>
public enum DeliveryNextStep
{
    /// <summary>Every recipient of the domain has its outcome.</summary>
    Done,

    /// <summary>
    /// Some recipients are still pending and another MX address is left to try now. The delivery walks the addresses
    /// itself, so a pipeline sees this only when the deadline stopped a round between two addresses.
    /// </summary>
    TryNextAddress,

    /// <summary>Some recipients are still pending for a transient reason and every address was tried: try again after a delay.</summary>
    RetryLater,
}
