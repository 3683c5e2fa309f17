using System;
using System.Collections.Generic;
using System.Globalization;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// Settings of <see cref="MailQueue"/> and <see cref="MailQueueWorker"/>, bound from the configuration section
/// <c>DirectMail:Queue</c> by <c>AddQueue</c>. Each property says why it has its default; <see cref="Validate"/> checks them once.
/// </summary>
public sealed class MailQueueOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "DirectMail:Queue";

    /// <summary>
    /// The default retry intervals: 5.5 minutes (postgrey, the common greylister, waits 300 seconds), then 15 minutes,
    /// 30 minutes, 1 hour, 2 hours and 4 hours; the last repeats until <see cref="MaxAge"/>.
    /// </summary>
    public static IReadOnlyList<TimeSpan> DefaultRetryIntervals { get; } =
    [
        TimeSpan.FromSeconds(330),
        TimeSpan.FromMinutes(15),
        TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1),
        TimeSpan.FromHours(2),
        TimeSpan.FromHours(4),
    ];

    /// <summary>
    /// The wait after each deferred attempt: the first after the first attempt, and so on; the last repeats. Empty
    /// (default): <see cref="DefaultRetryIntervals"/>. (Empty rather than prefilled, because the configuration binder adds
    /// to a list instead of replacing it.)
    /// </summary>
    public IList<TimeSpan> RetryIntervals { get; set; } = new List<TimeSpan>();

    /// <summary>
    /// How long a message is tried before its undelivered recipients expire. Default 5 days, as Postfix's
    /// <c>maximal_queue_lifetime</c>. The last attempt is made at this age at the latest.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// How much each wait is spread, as a fraction: 0.1 (default) makes a 1-hour wait 54 to 66 minutes, so that messages
    /// deferred together (a destination down) do not all come back at the same instant. 0 for exact waits.
    /// </summary>
    public double RetryJitter { get; set; } = 0.1;

    /// <summary>
    /// The shortest wait a server's own hint ("try again in 30 seconds") may set. Default 1 minute: a hint is honoured,
    /// but never makes the queue hammer a server.
    /// </summary>
    public TimeSpan MinimumHintedDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait a server's hint may set. Default 6 hours: a hint of days does not park a message past reason.</summary>
    public TimeSpan MaximumHintedDelay { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// The least wait after a rate limit (421 or 451 with 4.7.x, not greylisting) when the server gives no hint; the
    /// destination is left alone as long. Default 30 minutes: receivers that throttle a new sender (Gmail's 421 4.7.28,
    /// Outlook's 451 4.7.500) count every further try against it.
    /// </summary>
    public TimeSpan RateLimitDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long a worker's claim on a message lasts; it is renewed every third of it while the delivery runs. Default 2
    /// minutes: a worker that dies gives its messages back to the others that soon.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The most messages claimed from the store at once. Default 32.</summary>
    public int ClaimBatchSize { get; set; } = 32;

    /// <summary>
    /// The most messages a worker delivers at once. Default 16. The mailer's own limits (connections per host,
    /// concurrent domains) apply within it.
    /// </summary>
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>
    /// The longest a worker sleeps before it looks at the store again when nothing is due. Default 30 seconds: it also
    /// wakes at the next due time and at once when this process enqueues, so this matters for messages other processes
    /// add to a shared store.
    /// </summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most messages per second sent to one destination (its set of MX hosts) that no
    /// <see cref="DestinationLimits"/> rule matches, as a token bucket holding one second's worth (at least one message).
    /// 0 (default) for no limit. Shared by every instance when the store implements <see cref="IQueueLimitStore"/>
    /// (the SQLite and PostgreSQL stores do), else per worker.
    /// </summary>
    public double MaxMessagesPerSecondPerDestination { get; set; }

    /// <summary>
    /// The most deliveries in progress at once to one destination that no <see cref="DestinationLimits"/> rule matches
    /// (each delivery is one send to one domain, one SMTP connection while it lasts). 0 (default) for no limit. Shared
    /// like <see cref="MaxMessagesPerSecondPerDestination"/>. The mailer's <c>DirectMail:MaxConnectionsPerHost</c> still
    /// caps the connections one process opens to one MX address, idle pooled ones included; this limit counts
    /// deliveries over every instance, not idle connections.
    /// </summary>
    public int MaxConnectionsPerDestination { get; set; }

    /// <summary>
    /// Limits shared by every destination whose MX hosts match a rule: a provider hosting many domains
    /// (<c>*.google.com</c>, <c>*.protection.outlook.com</c>) gets one limit for all of them. The first matching rule
    /// wins; an unmatched destination gets the per-destination defaults. Empty (default): none.
    /// </summary>
    public IList<DestinationLimit> DestinationLimits { get; set; } = new List<DestinationLimit>();

    /// <summary>
    /// How long a delivery waits for a connection slot of its limit (<see cref="DestinationLimit.MaxConnections"/>,
    /// <see cref="MaxConnectionsPerDestination"/>) before its recipients are deferred, not tried and with no attempt
    /// counted, by as long again. Default 30 seconds: a slot usually frees within one delivery, and a delivery that waits
    /// holds one of <see cref="MaxConcurrentDeliveries"/>, so it must not wait long while other destinations could go.
    /// </summary>
    public TimeSpan ConnectionSlotWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a recipient may stay undelivered before the worker tells once that it is delayed (an event with
    /// <see cref="MailQueueEvent.IsDelayed"/>; RFC 3464's <c>Action: delayed</c>, Postfix's <c>delay_warning_time</c>).
    /// Default 4 hours, Postfix's value when the warning is turned on. <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    public TimeSpan DelayWarningTime { get; set; } = TimeSpan.FromHours(4);

    /// <summary>
    /// Whether the worker sends delivery status notifications back to senders (RFC 3464): a failure notice when a
    /// recipient fails or expires, a delay notice when it is delayed (<see cref="DelayWarningTime"/>), each only as the
    /// recipient's NOTIFY allows and never for mail from the null sender. One notice per message per delivery round,
    /// queued as a message of its own from <c>&lt;&gt;</c>. Default false: most applications follow
    /// <see cref="IMailQueue.ReadEventsAsync"/> instead. Needs <see cref="ReportingMta"/>.
    /// </summary>
    public bool SendDeliveryStatusNotices { get; set; }

    /// <summary>
    /// The host name notices name as the reporting server (<c>Reporting-MTA</c>, and the <c>MAILER-DAEMON@</c> they
    /// come from), usually the mailer's HELO name. Required when <see cref="SendDeliveryStatusNotices"/> is set.
    /// </summary>
    public string? ReportingMta { get; set; }

    /// <summary>
    /// With <c>AddQueue</c>: the registered mailer hands what its SendAsync defers to this queue
    /// (<see cref="Delivery.DirectMailer.OnDeferred"/>). Default true. Without DI set <c>OnDeferred</c> yourself.
    /// </summary>
    public bool HandOffDeferred { get; set; } = true;

    /// <summary>
    /// How many events one reader of <see cref="IMailQueue.ReadEventsAsync"/> may fall behind before the oldest are
    /// dropped. Default 1024: an application that stops reading must not make the worker hold memory without bound.
    /// </summary>
    public int EventCapacity { get; set; } = 1024;

    /// <summary>The intervals in use: <see cref="RetryIntervals"/>, or the defaults when it is empty.</summary>
    internal IReadOnlyList<TimeSpan> EffectiveRetryIntervals => RetryIntervals.Count == 0 ? DefaultRetryIntervals : (IReadOnlyList<TimeSpan>)new List<TimeSpan>(RetryIntervals);

    /// <summary>
    /// Checks every option and throws <see cref="ArgumentException"/> naming the wrong one, or listing them all when
    /// several are wrong. <c>AddQueue</c> runs the same checks at startup.
    /// </summary>
    public void Validate() => Check().ThrowIfAny();

    /// <summary>Runs every rule and returns the failures, each naming its option by configuration key (<c>DirectMail:Queue:MaxAge</c>).</summary>
    internal OptionErrors Check()
    {
        var errors = new OptionErrors(SectionName);
        foreach (var interval in RetryIntervals)
        {
            if (interval <= TimeSpan.Zero)
            {
                errors.Add(nameof(RetryIntervals), $"{errors.Name(nameof(RetryIntervals))} must be positive; {interval} is not.");
            }
        }

        Positive(errors, MaxAge, nameof(MaxAge));
        if (RetryJitter is < 0 or >= 1 || double.IsNaN(RetryJitter))
        {
            errors.Add(nameof(RetryJitter), $"{errors.Name(nameof(RetryJitter))} must be at least 0 and below 1; it is {RetryJitter.ToString(CultureInfo.InvariantCulture)}.");
        }

        Positive(errors, MinimumHintedDelay, nameof(MinimumHintedDelay));
        Positive(errors, MaximumHintedDelay, nameof(MaximumHintedDelay));
        if (MaximumHintedDelay < MinimumHintedDelay)
        {
            errors.Add(nameof(MaximumHintedDelay), $"{errors.Name(nameof(MaximumHintedDelay))} must not be below MinimumHintedDelay.");
        }

        Positive(errors, RateLimitDelay, nameof(RateLimitDelay));
        Positive(errors, LeaseDuration, nameof(LeaseDuration));
        Positive(errors, IdlePollInterval, nameof(IdlePollInterval));
        Positive(errors, ConnectionSlotWait, nameof(ConnectionSlotWait));
        if (DelayWarningTime < TimeSpan.Zero)
        {
            errors.Add(nameof(DelayWarningTime), $"{errors.Name(nameof(DelayWarningTime))} must be 0 (no warning) or positive; it is {DelayWarningTime}.");
        }

        AtLeastOne(errors, ClaimBatchSize, nameof(ClaimBatchSize));
        AtLeastOne(errors, MaxConcurrentDeliveries, nameof(MaxConcurrentDeliveries));
        AtLeastOne(errors, EventCapacity, nameof(EventCapacity));
        Rate(errors, MaxMessagesPerSecondPerDestination, nameof(MaxMessagesPerSecondPerDestination));
        if (MaxConnectionsPerDestination < 0)
        {
            errors.Add(nameof(MaxConnectionsPerDestination), $"{errors.Name(nameof(MaxConnectionsPerDestination))} must be 0 (no limit) or positive; it is {MaxConnectionsPerDestination}.");
        }

        if (SendDeliveryStatusNotices)
        {
            if (string.IsNullOrEmpty(ReportingMta))
            {
                errors.Add(nameof(ReportingMta), $"{errors.Name(nameof(ReportingMta))} must name this host (the HELO name) when {errors.Name(nameof(SendDeliveryStatusNotices))} is set.");
            }
            else if ((ReportingMta[0] == '[' ? "an address literal names no host" : SmtpSessionOptions.HeloNameError(ReportingMta)) is { } error)
            {
                errors.Add(nameof(ReportingMta), $"{errors.Name(nameof(ReportingMta))} must be a host name: {error}");
            }
        }

        CheckDestinationLimits(errors);
        return errors;

        static void Positive(OptionErrors errors, TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add(name, $"{errors.Name(name)} must be positive; it is {value}.");
            }
        }

        static void AtLeastOne(OptionErrors errors, int value, string name)
        {
            if (value < 1)
            {
                errors.Add(name, string.Create(CultureInfo.InvariantCulture, $"{errors.Name(name)} must be at least 1; it is {value}."));
            }
        }
    }

    private void CheckDestinationLimits(OptionErrors errors)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < DestinationLimits.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{nameof(DestinationLimits)}.{i}");
            var limit = DestinationLimits[i];
            if (limit is null)
            {
                errors.Add(path, $"{errors.Name(path)} is empty.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(limit.Name))
            {
                errors.Add(path + ".Name", $"{errors.Name(path + ".Name")} is required: it is the key the matching destinations share.");
            }
            else if (!names.Add(limit.Name))
            {
                errors.Add(path + ".Name", $"{errors.Name(path + ".Name")} '{limit.Name}' is used by an earlier rule; each limit has its own name.");
            }

            if (limit.MxHosts is null || limit.MxHosts.Count == 0)
            {
                errors.Add(path + ".MxHosts", $"{errors.Name(path + ".MxHosts")} is empty: list the MX host names the rule matches (mx.example.net, or *.example.net for every host under it).");
            }
            else
            {
                foreach (var pattern in limit.MxHosts)
                {
                    if (!IsHostPattern(pattern))
                    {
                        errors.Add(path + ".MxHosts", $"{errors.Name(path + ".MxHosts")}: '{pattern}' is not a host name or *.suffix (a '*.' only at the start, then a domain).");
                    }
                }
            }

            Rate(errors, limit.MaxMessagesPerSecond, path + ".MaxMessagesPerSecond");
            if (limit.Burst != 0 && (limit.Burst < 1 || !double.IsFinite(limit.Burst)))
            {
                errors.Add(path + ".Burst", $"{errors.Name(path + ".Burst")} must be 0 (one second's worth) or at least 1; it is {limit.Burst.ToString(CultureInfo.InvariantCulture)}.");
            }

            if (limit.MaxConnections < 0)
            {
                errors.Add(path + ".MaxConnections", string.Create(CultureInfo.InvariantCulture, $"{errors.Name(path + ".MaxConnections")} must be 0 (no limit) or positive; it is {limit.MaxConnections}."));
            }
        }
    }

    private static void Rate(OptionErrors errors, double value, string name)
    {
        if (value < 0 || !double.IsFinite(value))
        {
            errors.Add(name, $"{errors.Name(name)} must be 0 (no limit) or positive; it is {value.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    /// <summary>A host name (letters, digits, hyphens, dots), or one with <c>*.</c> in front.</summary>
    private static bool IsHostPattern(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            return false;
        }

        var host = pattern.Trim().TrimEnd('.');
        if (host.StartsWith("*.", StringComparison.Ordinal))
        {
            host = host[2..];
        }

        if (host.Length == 0 || host.Length > 253)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                {
                    return false;
                }
            }
        }

        return true;
    }
}
