using System;

namespace DirectMail.HealthChecks;

/// <summary>What the DirectMail health check (<c>AddDirectMailHealthCheck</c>) looks at, and when it reports Degraded.</summary>
public sealed class DirectMailHealthCheckOptions
{
    /// <summary>
    /// A domain that receives mail (a large mailbox provider's, such as <c>gmail.com</c>) whose first MX host the check
    /// connects to on the mailer's port (<c>DirectMail:Port</c>, 25) to see whether outbound port 25 is open: the
    /// doctor's probe, which only connects and sends nothing. Null (default): port 25 is not checked (no connection is
    /// ever made).
    /// </summary>
    public string? Port25ProbeDomain { get; set; }

    /// <summary>
    /// How long a probe's result is kept: a health endpoint polled every few seconds opens a connection at most once in
    /// this time. Default 5 minutes.
    /// </summary>
    public TimeSpan Port25ProbeInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the probe's connection may take before port 25 is taken for blocked. Default 10 seconds.</summary>
    public TimeSpan Port25Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A domain looked up through the mailer's resolver on every check (the resolver's cache applies): a DNS failure
    /// (time-out, SERVFAIL, no name server answering) reports Degraded. Null (default): <see cref="Port25ProbeDomain"/>;
    /// when both are null the resolver is not checked.
    /// </summary>
    public string? ResolverProbeDomain { get; set; }

    /// <summary>Degraded when more recipients than this are not final in the queue (queued, deferred, in flight, held, in doubt). Null: no limit. Default 10 000.</summary>
    public long? MaxQueueDepth { get; set; } = 10_000;

    /// <summary>Degraded when the oldest message not final is older than this. Null: no limit. Default 4 hours (Postfix's delay warning time).</summary>
    public TimeSpan? MaxOldestPendingAge { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Degraded when more recipients than this are in doubt (their delivery's outcome was lost; an operator decides). Null: no limit. Default 0: any.</summary>
    public long? MaxInDoubt { get; set; } = 0;

    /// <summary>Degraded when more recipients than this are held by an operator. Null (default): no limit.</summary>
    public long? MaxHeld { get; set; }

    internal void Validate()
    {
        if (Port25ProbeInterval < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(Port25ProbeInterval)} must not be negative; it is {Port25ProbeInterval}.");
        }

        if (Port25Timeout <= TimeSpan.Zero || Port25Timeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"{nameof(Port25Timeout)} must be more than 0 and at most 5 minutes; it is {Port25Timeout}.");
        }
    }
}
