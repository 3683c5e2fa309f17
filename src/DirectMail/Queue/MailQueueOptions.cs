using System;
using System.Collections.Generic;
using System.Globalization;

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
    /// The most messages per second the worker sends to one destination (its set of MX hosts), as a token bucket
    /// holding one second's worth. 0 (default) for no limit. The limit is per worker; a limit shared by several
    /// instances needs a shared store (the PostgreSQL store).
    /// </summary>
    public double MaxMessagesPerSecondPerDestination { get; set; }

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

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first wrong one.</summary>
    public void Validate()
    {
        foreach (var interval in RetryIntervals)
        {
            if (interval <= TimeSpan.Zero)
            {
                throw new ArgumentException($"DirectMail:Queue:RetryIntervals must be positive; {interval} is not.", nameof(RetryIntervals));
            }
        }

        Positive(MaxAge, nameof(MaxAge));
        if (RetryJitter is < 0 or >= 1 || double.IsNaN(RetryJitter))
        {
            throw new ArgumentException($"DirectMail:Queue:RetryJitter must be at least 0 and below 1; it is {RetryJitter.ToString(CultureInfo.InvariantCulture)}.", nameof(RetryJitter));
        }

        Positive(MinimumHintedDelay, nameof(MinimumHintedDelay));
        Positive(MaximumHintedDelay, nameof(MaximumHintedDelay));
        if (MaximumHintedDelay < MinimumHintedDelay)
        {
            throw new ArgumentException("DirectMail:Queue:MaximumHintedDelay must not be below MinimumHintedDelay.", nameof(MaximumHintedDelay));
        }

        Positive(RateLimitDelay, nameof(RateLimitDelay));
        Positive(LeaseDuration, nameof(LeaseDuration));
        Positive(IdlePollInterval, nameof(IdlePollInterval));
        AtLeastOne(ClaimBatchSize, nameof(ClaimBatchSize));
        AtLeastOne(MaxConcurrentDeliveries, nameof(MaxConcurrentDeliveries));
        AtLeastOne(EventCapacity, nameof(EventCapacity));
        if (MaxMessagesPerSecondPerDestination < 0 || double.IsNaN(MaxMessagesPerSecondPerDestination))
        {
            throw new ArgumentException("DirectMail:Queue:MaxMessagesPerSecondPerDestination must be 0 (no limit) or positive.", nameof(MaxMessagesPerSecondPerDestination));
        }

        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"DirectMail:Queue:{name} must be positive; it is {value}.", name);
            }
        }

        static void AtLeastOne(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentException($"DirectMail:Queue:{name} must be at least 1; it is {value}.", name);
            }
        }
    }
}
