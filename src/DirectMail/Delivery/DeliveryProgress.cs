using DirectMail.Dns;

namespace DirectMail.Delivery;

/// <summary>
/// One step of a send, reported to the <see cref="System.IProgress{T}"/> given to
/// <see cref="IDirectMailer.SendAsync(Smtp.SmtpEnvelope, Smtp.SmtpContent, System.IProgress{DeliveryProgress}?, System.Threading.CancellationToken)"/>:
/// a domain resolved, a recipient settled, a domain settled (<see cref="Kind"/>). Domains are delivered concurrently,
/// so reports of different domains interleave and may come from several threads at once (a
/// <see cref="System.Progress{T}"/> posts them to its synchronization context; another implementation must be
/// thread-safe). Every report comes before SendAsync returns or throws <see cref="DeliveryCanceledException"/>.
/// </summary>
/// <remarks>
/// A settled recipient's <see cref="Recipient"/> is its outcome at the moment it became final; the
/// <see cref="DeliveryReport"/> has the same <see cref="RecipientDelivery.Status"/>, reply and host, and may add what is
/// known only once every domain is done: the port 25 hint (<see cref="RecipientDelivery.Hint"/>) and the queue id of a
/// deferred recipient handed to a queue (<see cref="RecipientDelivery.QueueId"/>).
/// </remarks>
public sealed class DeliveryProgress
{
    private DeliveryProgress(DeliveryProgressKind kind, string domain)
    {
        Kind = kind;
        Domain = domain;
    }

    /// <summary>What settled.</summary>
    public DeliveryProgressKind Kind { get; }

    /// <summary>The recipient domain (A-label, lower case, as <see cref="Smtp.SmtpEnvelope.GetRecipientDomain"/> gives it).</summary>
    public string Domain { get; }

    /// <summary>For <see cref="DeliveryProgressKind.DomainResolved"/>: the MX lookup's result (hosts and addresses, or why it failed). Null otherwise.</summary>
    public MxResolution? Resolution { get; private init; }

    /// <summary>For <see cref="DeliveryProgressKind.RecipientSettled"/>: the recipient's outcome. Null otherwise.</summary>
    public RecipientDelivery? Recipient { get; private init; }

    /// <summary>For <see cref="DeliveryProgressKind.DomainSettled"/>: the domain's recipients delivered. 0 otherwise.</summary>
    public int Delivered { get; private init; }

    /// <summary>For <see cref="DeliveryProgressKind.DomainSettled"/>: the domain's recipients deferred. 0 otherwise.</summary>
    public int Deferred { get; private init; }

    /// <summary>For <see cref="DeliveryProgressKind.DomainSettled"/>: the domain's recipients failed. 0 otherwise.</summary>
    public int Failed { get; private init; }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        DeliveryProgressKind.DomainResolved => $"{Domain}: resolved ({Resolution?.Status})",
        DeliveryProgressKind.RecipientSettled => $"{Domain}: {Recipient?.Address} {Recipient?.Status}",
        _ => $"{Domain}: settled ({Delivered} delivered, {Deferred} deferred, {Failed} failed)",
    };

    internal static DeliveryProgress Resolved(string domain, MxResolution resolution) =>
        new(DeliveryProgressKind.DomainResolved, domain) { Resolution = resolution };

    internal static DeliveryProgress Settled(string domain, RecipientDelivery recipient) =>
        new(DeliveryProgressKind.RecipientSettled, domain) { Recipient = recipient };

    internal static DeliveryProgress DomainDone(string domain, int delivered, int deferred, int failed) =>
        new(DeliveryProgressKind.DomainSettled, domain) { Delivered = delivered, Deferred = deferred, Failed = failed };
}
