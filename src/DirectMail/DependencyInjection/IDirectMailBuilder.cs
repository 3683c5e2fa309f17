using System;
using DirectMail.Delivery;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Refines the DirectMail registration made by <see cref="DirectMailServiceCollectionExtensions.AddDirectMail"/>.</summary>
public interface IDirectMailBuilder
{
    /// <summary>The service collection DirectMail is registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// Builds the delivery's resilience pipeline with <paramref name="configure"/> instead of the defaults. Call
    /// <see cref="DeliveryResilience.AddDefaultStrategies"/> inside it to keep them and add to them (a rate limiter, a
    /// circuit breaker). Polly's telemetry goes to the application's logging either way.
    /// </summary>
    /// <param name="configure">Adds strategies; receives the validated options.</param>
    /// <returns>This builder.</returns>
    IDirectMailBuilder ConfigureResilience(Action<ResiliencePipelineBuilder<DeliveryAttemptOutcome>, DirectMailOptions> configure);
}
