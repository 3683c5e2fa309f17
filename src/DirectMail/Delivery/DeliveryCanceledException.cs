using System;

namespace DirectMail.Delivery;

/// <summary>
/// Thrown when SendAsync is canceled by its caller. Recipients a server had already accepted are in
/// <see cref="Report"/> as Delivered; the rest as Deferred.
/// </summary>
public sealed class DeliveryCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public DeliveryCanceledException(DeliveryReport report, System.Threading.CancellationToken cancellationToken)
        : base("The send was canceled; see Report for the recipients already delivered.", cancellationToken)
    {
        Report = report;
    }

    /// <summary>What had happened by the time the send was canceled.</summary>
    public DeliveryReport Report { get; }
}
