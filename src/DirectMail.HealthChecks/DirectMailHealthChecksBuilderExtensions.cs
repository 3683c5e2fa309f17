using System;
using System.Collections.Generic;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.HealthChecks;
using DirectMail.Queue;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// The namespace of IHealthChecksBuilder, as the framework's own AddCheck extensions: found without a using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the DirectMail health check.</summary>
public static class DirectMailHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of the mailer registered by <c>AddDirectMail</c>: Unhealthy when outbound port 25 is
    /// blocked (with <see cref="DirectMailHealthCheckOptions.Port25ProbeDomain"/> set; the doctor's probe, which only
    /// connects, run at most once per <see cref="DirectMailHealthCheckOptions.Port25ProbeInterval"/>), Degraded when a
    /// lookup through the mailer's resolver fails, and the queue's state when an <see cref="IMailQueue"/> is registered
    /// (depth, oldest pending age, held and in-doubt counts in the result's data; Degraded past the thresholds).
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="configure">Sets the probe domains and thresholds; null for the defaults (no port 25 probe, no resolver lookup, the queue's default thresholds).</param>
    /// <param name="name">The check's name. Default <c>directmail</c>.</param>
    /// <param name="failureStatus">What a blocked port 25 reports; null for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">The check's tags, to filter health endpoints by.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static IHealthChecksBuilder AddDirectMailHealthCheck(this IHealthChecksBuilder builder, Action<DirectMailHealthCheckOptions>? configure = null, string name = "directmail", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new DirectMailHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();

        // One check per registration for the application's life: the probe's cached result lives in it (the framework
        // calls the factory on every run).
        DirectMailHealthCheck? check = null;
        var gate = new object();
        return builder.Add(new HealthCheckRegistration(
            name,
            sp =>
            {
                lock (gate)
                {
                    return check ??= new DirectMailHealthCheck(
                        options,
                        sp.GetRequiredService<IMxResolver>(),
                        sp.GetRequiredService<IOptions<DirectMailOptions>>().Value,
                        sp.GetService<IMailQueue>(),
                        sp.GetService<TimeProvider>() ?? TimeProvider.System,
                        sp.GetService<ILoggerFactory>()?.CreateLogger("DirectMail.HealthChecks"));
                }
            },
            failureStatus,
            tags));
    }
}
