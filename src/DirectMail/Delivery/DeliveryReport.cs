using System;
using System.Collections.Generic;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>The outcome of one <see cref="IDirectMailer.SendAsync(SmtpEnvelope, SmtpContent, System.Threading.CancellationToken)"/>: one entry per envelope recipient, in envelope order.</summary>
public sealed class DeliveryReport
{
    internal DeliveryReport(IReadOnlyList<RecipientDelivery> recipients, TimeSpan duration, IReadOnlyList<string> diagnostics)
    {
        Recipients = recipients;
        Duration = duration;
        Diagnostics = diagnostics;
        foreach (var r in recipients)
        {
            switch (r.Status)
            {
                case DeliveryStatus.Delivered:
                    DeliveredCount++;
                    break;
                case DeliveryStatus.Deferred:
                    DeferredCount++;
                    break;
                default:
                    FailedCount++;
                    break;
            }
        }
    }

    /// <summary>Every envelope recipient, in envelope order.</summary>
    public IReadOnlyList<RecipientDelivery> Recipients { get; }

    /// <summary>How many were delivered.</summary>
    public int DeliveredCount { get; }

    /// <summary>How many are deferred (try again later).</summary>
    public int DeferredCount { get; }

    /// <summary>How many failed for good.</summary>
    public int FailedCount { get; }

    /// <summary>True when every recipient was delivered.</summary>
    public bool IsFullyDelivered => DeliveredCount == Recipients.Count;

    /// <summary>How long the SendAsync call took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Findings about the whole send, such as "outbound port 25 is probably blocked".</summary>
    public IReadOnlyList<string> Diagnostics { get; }

    /// <summary>Throws <see cref="DeliveryException"/> unless every recipient was delivered, in the style of <c>EnsureSuccessStatusCode</c>.</summary>
    /// <returns>This report, when every recipient was delivered.</returns>
    public DeliveryReport EnsureDelivered()
    {
        return IsFullyDelivered ? this : throw new DeliveryException(this);
    }

    /// <summary>This report with one more diagnostic.</summary>
    internal DeliveryReport WithDiagnostic(string diagnostic)
    {
        var diagnostics = new List<string>(Diagnostics) { diagnostic };
        return new DeliveryReport(Recipients, Duration, diagnostics);
    }

    /// <inheritdoc />
    public override string ToString() => $"{DeliveredCount} delivered, {DeferredCount} deferred, {FailedCount} failed in {Duration.TotalMilliseconds:F0} ms";
}
