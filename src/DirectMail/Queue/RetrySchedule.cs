using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// When a deferred recipient is tried again: the configured interval for its attempt count, jittered; or what the
/// server said ("try again in 5 minutes"), clamped; or, after a rate limit (421/451 4.7.x), at least
/// <see cref="MailQueueOptions.RateLimitDelay"/>. Never later than the message's expiry, so the last attempt is made at
/// <see cref="MailQueueOptions.MaxAge"/>. Thread-safe.
/// </summary>
internal sealed partial class RetrySchedule
{
    private readonly IReadOnlyList<TimeSpan> _intervals;
    private readonly double _jitter;
    private readonly TimeSpan _minimumHint;
    private readonly TimeSpan _maximumHint;
    private readonly TimeSpan _rateLimit;
    private readonly Random _random;

    /// <param name="options">The validated options.</param>
    /// <param name="random">The jitter's source; a seeded one makes tests repeatable. Null for <see cref="Random.Shared"/>.</param>
    public RetrySchedule(MailQueueOptions options, Random? random = null)
    {
        _intervals = options.EffectiveRetryIntervals;
        _jitter = options.RetryJitter;
        _minimumHint = options.MinimumHintedDelay;
        _maximumHint = options.MaximumHintedDelay;
        _rateLimit = options.RateLimitDelay;
        _random = random ?? Random.Shared;
    }

    /// <summary>The wait before the next attempt.</summary>
    /// <param name="attempts">The attempts made so far, the one that just deferred included (1 after the first).</param>
    /// <param name="reply">The reply that deferred it, if any.</param>
    public TimeSpan NextDelay(int attempts, SmtpReply? reply)
    {
        var scheduled = _intervals[Math.Clamp(attempts - 1, 0, _intervals.Count - 1)];
        if (reply is not null && FindHint(reply.Text) is { } hint)
        {
            // A server that names its wait is believed, within reason; the spread only ever makes it later.
            hint = hint < _minimumHint ? _minimumHint : hint > _maximumHint ? _maximumHint : hint;
            return hint + (hint * (_jitter * NextDouble()));
        }

        var delay = Jittered(scheduled);
        if (reply is not null && IsRateLimit(reply) && delay < _rateLimit)
        {
            delay = _rateLimit + (_rateLimit * (_jitter * NextDouble()));
        }

        return delay;
    }

    /// <summary>The time of the next attempt: now plus <see cref="NextDelay"/>, at the latest <paramref name="expiresAt"/>.</summary>
    public DateTimeOffset NextAttempt(DateTimeOffset now, int attempts, SmtpReply? reply, DateTimeOffset expiresAt)
    {
        var next = now + NextDelay(attempts, reply);
        return next > expiresAt ? expiresAt : next;
    }

    /// <summary>
    /// A rate limit: 421 or 451 with an enhanced code of class 4.7 (policy), unless the text says greylisting (which
    /// some greylisters answer with 451 4.7.1 and which passes on the next try).
    /// </summary>
    public static bool IsRateLimit(SmtpReply reply)
    {
        if (reply.Code is not (421 or 451) || reply.EnhancedStatusCode is not { Subject: 7 })
        {
            return false;
        }

        return !reply.Text.Contains("greylist", StringComparison.OrdinalIgnoreCase) && !reply.Text.Contains("graylist", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The wait a reply's text names: "try again in 5 minutes", "retry in 300 seconds", "please try again in 180 seconds".</summary>
    public static TimeSpan? FindHint(string text)
    {
        var match = HintPattern().Match(text);
        if (!match.Success || !int.TryParse(match.Groups["n"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return null;
        }

        var unit = match.Groups["unit"].ValueSpan;
        return unit[0] is 'h' or 'H' ? TimeSpan.FromHours(n)
            : unit[0] is 'm' or 'M' ? TimeSpan.FromMinutes(n)
            : TimeSpan.FromSeconds(n);
    }

    private TimeSpan Jittered(TimeSpan delay) => _jitter == 0 ? delay : delay + (delay * (_jitter * ((2 * NextDouble()) - 1)));

    private double NextDouble()
    {
        if (ReferenceEquals(_random, Random.Shared))
        {
            return _random.NextDouble();
        }

        lock (_random)
        {
            return _random.NextDouble();
        }
    }

    [GeneratedRegex(@"\b(?:try(?:\s+again)?|retry|come\s+back|wait)\b(?:\s+(?:again|later|after|in|for|at\s+least))*\s+(?<n>\d{1,6})\s*(?<unit>hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HintPattern();
}
