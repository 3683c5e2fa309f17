using System;
using DirectMail.Diagnostics;

// The namespace of the builder, as OpenTelemetry's own instrumentation packages do: found without a using.
namespace OpenTelemetry.Metrics;

/// <summary>Adds DirectMail's metrics to an OpenTelemetry meter provider.</summary>
public static class MeterProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to DirectMail's meter (<see cref="DirectMailTelemetry.MeterName"/>): <c>directmail.send.duration</c>
    /// and <c>directmail.attempt.duration</c> (histograms in seconds), <c>directmail.messages</c> and
    /// <c>directmail.recipients</c> by <c>directmail.outcome</c>, <c>directmail.connection.count</c> by
    /// <c>directmail.connection.state</c> (idle, used), and the queue's counters and gauges. On .NET 9 and later the
    /// duration histograms carry their bucket advice (<see cref="DirectMailTelemetry.DurationBucketBoundaries"/>); on
    /// .NET 8 add a view with those boundaries to get the same buckets.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static MeterProviderBuilder AddDirectMailInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(DirectMailTelemetry.MeterName);
    }
}
