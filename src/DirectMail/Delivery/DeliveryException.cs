using System;
using System.Text;

namespace DirectMail.Delivery;

/// <summary>Thrown by <see cref="DeliveryReport.EnsureDelivered"/>: lists every recipient that was not delivered.</summary>
public sealed class DeliveryException : Exception
{
    /// <summary>Creates the exception for a report.</summary>
    public DeliveryException(DeliveryReport report)
        : base(Describe(report ?? throw new ArgumentNullException(nameof(report))))
    {
        Report = report;
    }

    /// <summary>The whole report.</summary>
    public DeliveryReport Report { get; }

    private static string Describe(DeliveryReport report)
    {
        var builder = new StringBuilder();
        builder.Append(report.DeferredCount + report.FailedCount).Append(" of ").Append(report.Recipients.Count).Append(" recipients were not delivered:");
        foreach (var r in report.Recipients)
        {
            if (r.Status != DeliveryStatus.Delivered)
            {
                builder.Append(Environment.NewLine).Append("  ").Append(r);
            }
        }

        foreach (var d in report.Diagnostics)
        {
            builder.Append(Environment.NewLine).Append(d);
        }

        return builder.ToString();
    }
}
