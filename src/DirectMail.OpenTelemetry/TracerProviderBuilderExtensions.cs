using System;
using DirectMail.Diagnostics;

// The namespace of the builder, as OpenTelemetry's own instrumentation packages do: found without a using.
namespace OpenTelemetry.Trace;

/// <summary>Adds DirectMail's spans to an OpenTelemetry tracer provider.</summary>
public static class TracerProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to DirectMail's activity source (<see cref="DirectMailTelemetry.ActivitySourceName"/>): a
    /// <c>directmail.send</c> span per send, a <c>directmail.domain</c> span per recipient domain, and a
    /// <c>directmail.attempt</c> client span per connection to an MX or relay address (<c>server.address</c>,
    /// <c>server.port</c>, and on failure <c>error.type</c> with an error status).
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static TracerProviderBuilder AddDirectMailInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(DirectMailTelemetry.ActivitySourceName);
    }
}
