using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Doctor;
using DirectMail.Queue;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace DirectMail.HealthChecks;

/// <summary>
/// The DirectMail health check: Unhealthy when outbound port 25 is blocked (<see cref="Port25Probe"/>, its result
/// kept for <see cref="DirectMailHealthCheckOptions.Port25ProbeInterval"/>), Degraded when the mailer's resolver fails
/// or the queue is past a threshold; the data dictionary says what was seen. One instance per registration, kept for
/// the application's life (the probe's result lives in it).
/// </summary>
internal sealed class DirectMailHealthCheck(
    DirectMailHealthCheckOptions options,
    IMxResolver resolver,
    DirectMailOptions mailer,
    IMailQueue? queue,
    TimeProvider time,
    ILogger? logger) : IHealthCheck
{
    private readonly object _gate = new();
    private Task<Port25Result>? _probe;
    private long _probedAt;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = HealthStatus.Healthy;
        var reasons = new List<string>();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);

        // The resolver: a lookup through the mailer's own resolver (and its cache).
        if ((options.ResolverProbeDomain ?? options.Port25ProbeDomain) is { } lookup)
        {
            var resolution = await resolver.ResolveAsync(lookup, cancellationToken).ConfigureAwait(false);
            data["resolver.domain"] = lookup;
            data["resolver"] = resolution.IsTransient ? "failed" : "ok";
            if (resolution.IsTransient)
            {
                status = HealthStatus.Degraded;
                reasons.Add($"The resolver failed to look up {lookup}: {resolution.Message}");
            }
        }

        // Port 25: the doctor's probe, at most once per interval whatever the polling.
        if (options.Port25ProbeDomain is not null)
        {
            var probe = await ProbeAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            data["port25"] = probe.State;
            data["port25.checked_at"] = probe.CheckedAt.ToString("O", CultureInfo.InvariantCulture);
            data["port25.detail"] = probe.Detail;
            if (probe.State == "blocked")
            {
                status = HealthStatus.Unhealthy;
                reasons.Add(probe.Detail);
            }
            else if (probe.State == "unknown" && status == HealthStatus.Healthy)
            {
                status = HealthStatus.Degraded;
                reasons.Add(probe.Detail);
            }
        }

        // The queue, when there is one.
        if (queue is not null)
        {
            var statistics = await queue.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
            var byState = statistics.RecipientsByState;
            long Count(QueueRecipientState state) => byState.TryGetValue(state, out var n) ? n : 0;
            var held = Count(QueueRecipientState.Held);
            var inDoubt = Count(QueueRecipientState.InDoubt);
            var depth = Count(QueueRecipientState.Queued) + Count(QueueRecipientState.Deferred) + Count(QueueRecipientState.InFlight) + held + inDoubt;
            var age = statistics.OldestPendingEnqueuedAt is { } oldest ? time.GetUtcNow() - oldest : (TimeSpan?)null;
            data["queue.depth"] = depth;
            data["queue.messages"] = statistics.Messages;
            data["queue.held"] = held;
            data["queue.in_doubt"] = inDoubt;
            data["queue.oldest_pending_age_seconds"] = age is { } a ? Math.Max(0, Math.Round(a.TotalSeconds)) : 0d;
            Degrade(depth > options.MaxQueueDepth, $"{depth} recipients are waiting in the queue (more than {options.MaxQueueDepth}).");
            Degrade(age > options.MaxOldestPendingAge, $"The oldest queued message is {age:g} old (more than {options.MaxOldestPendingAge:g}).");
            Degrade(inDoubt > options.MaxInDoubt, $"{inDoubt} recipients are in doubt (their delivery may or may not have happened): release or delete them.");
            Degrade(held > options.MaxHeld, $"{held} recipients are held (more than {options.MaxHeld}).");
        }

        var description = reasons.Count == 0 ? "DirectMail can deliver." : string.Join(" ", reasons);
        return new HealthCheckResult(status == HealthStatus.Unhealthy ? context.Registration.FailureStatus : status, description, exception: null, data);

        void Degrade(bool condition, string reason)
        {
            if (condition)
            {
                status = status == HealthStatus.Unhealthy ? status : HealthStatus.Degraded;
                reasons.Add(reason);
            }
        }
    }

    /// <summary>The cached probe, or a new one when the last is older than the interval; concurrent checks share one.</summary>
    private Task<Port25Result> ProbeAsync()
    {
        lock (_gate)
        {
            if (_probe is null || (_probe.IsCompleted && time.GetElapsedTime(_probedAt) >= options.Port25ProbeInterval))
            {
                _probedAt = time.GetTimestamp();

                // Not canceled by the caller: the probe is shared, and bounded by Port25Timeout.
                _probe = RunProbeAsync();
            }

            return _probe;
        }
    }

    private async Task<Port25Result> RunProbeAsync()
    {
        var domain = options.Port25ProbeDomain!;
        var resolution = await resolver.ResolveAsync(domain, CancellationToken.None).ConfigureAwait(false);
        if (!resolution.IsSuccess)
        {
            return new Port25Result("unknown", time.GetUtcNow(), $"Port 25 was not probed: the probe domain {domain} did not resolve ({resolution.Message}).");
        }

        var check = await Port25Probe.ConnectAsync(resolution, mailer.Port, options.Port25Timeout, mailer.AllowPrivateTargets, logger, CancellationToken.None).ConfigureAwait(false);
        return check.Status == DoctorStatus.Pass
            ? new Port25Result("open", time.GetUtcNow(), check.Found)
            : new Port25Result("blocked", time.GetUtcNow(), check.Found + (check.Fix is null ? null : " " + check.Fix));
    }

    private sealed record Port25Result(string State, DateTimeOffset CheckedAt, string Detail);
}
