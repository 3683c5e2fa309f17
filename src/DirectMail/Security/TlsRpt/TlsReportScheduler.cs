using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Adds this instance's counts to the shared store every <see cref="TlsReportingOptions.FlushInterval"/>, and sends each
/// day's reports after 00:00 UTC, two flush intervals (every instance's last counts of the day are in the store by then)
/// and a random wait (RFC 8460 section 4.1: spread, not all at midnight): per policy domain with counts in the store,
/// the report is claimed (so that of several instances on one store exactly one sends it), the <c>_smtp._tls</c>
/// record looked up, the report built from the store's sum and delivered; a report no destination took is tried again
/// every <see cref="TlsReportingOptions.RetryInterval"/> until a day after its day ended.
/// </summary>
internal sealed class TlsReportScheduler
{
    // How long a claim holds if its holder neither sends nor gives it back (the process died mid-send).
    private static readonly TimeSpan ClaimTime = TimeSpan.FromMinutes(30);

    // The longest a flush at shutdown may take: a store that does not answer must not hold the host's stop.
    private static readonly TimeSpan FinalFlushTime = TimeSpan.FromSeconds(10);

    private readonly TlsReportingOptions _options;
    private readonly TlsRptRecordLookup _lookup;
    private readonly TlsReportDelivery _delivery;
    private readonly ITlsReportStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<TimeSpan, TimeSpan> _spread;
    private readonly Dictionary<(string PolicyDomain, DateOnly Day), DateTimeOffset> _retryAt = [];

    /// <param name="options">The settings (validated).</param>
    /// <param name="aggregator">What this instance counts.</param>
    /// <param name="lookup">The record look-up.</param>
    /// <param name="delivery">The sender.</param>
    /// <param name="store">The shared counts and claims.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="holder">This instance's name in claims and batches.</param>
    /// <param name="spread">The random wait after midnight, given the maximum; null for a uniform one.</param>
    public TlsReportScheduler(
        TlsReportingOptions options,
        TlsReportAggregator aggregator,
        TlsRptRecordLookup lookup,
        TlsReportDelivery delivery,
        ITlsReportStore store,
        TimeProvider timeProvider,
        ILogger logger,
        string? holder = null,
        Func<TimeSpan, TimeSpan>? spread = null)
    {
        _options = options;
        _lookup = lookup;
        _delivery = delivery;
        _store = store;
        _time = timeProvider;
        _logger = logger;
        holder ??= string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}");
        Flusher = new TlsReportFlusher(aggregator, store, holder, timeProvider, logger);
        _spread = spread ?? (static max => TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * max.Ticks)));
    }

    /// <summary>This instance's name in the store's claims.</summary>
    public string Holder => Flusher.Holder;

    /// <summary>Moves this instance's counts into the store.</summary>
    public TlsReportFlusher Flusher { get; }

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> is cancelled: the counts flushed every interval, each day's
    /// reports after the next midnight, the flush grace and the random wait; a last flush when it stops.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var nextDaily = NextDailyRun(now);
        var nextFlush = now + _options.FlushInterval;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                now = _time.GetUtcNow();
                var wake = nextDaily < nextFlush ? nextDaily : nextFlush;
                foreach (var (_, retryAt) in _retryAt)
                {
                    wake = retryAt < wake ? retryAt : wake;
                }

                if (wake > now)
                {
                    await Task.Delay(wake - now, _time, cancellationToken).ConfigureAwait(false);
                    now = _time.GetUtcNow();
                }

                if (now >= nextFlush)
                {
                    nextFlush = now + _options.FlushInterval;
                    await Flusher.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                var daily = now >= nextDaily;
                if (daily || HasRetryDue(now))
                {
                    if (daily)
                    {
                        nextDaily = NextDailyRun(now);
                    }

                    try
                    {
                        var reports = await SendDueAsync(cancellationToken).ConfigureAwait(false);
                        if (daily)
                        {
                            TlsReportLog.Run(_logger, reports, Today(now).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), nextDaily);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        // The store did not answer the listing: the run is made again after the retry interval.
                        var again = now + _options.RetryInterval;
                        nextDaily = again < nextDaily ? again : nextDaily;
                        TlsReportLog.RunFailed(_logger, again, e);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            // At shutdown what was counted goes to the store, for whichever instance sends the report.
            using var bound = new CancellationTokenSource(FinalFlushTime, _time);
            try
            {
                await Flusher.FlushAsync(bound.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// Flushes this instance's counts, then sends the reports of the finished days in the store that are not sent and
    /// not waiting for a retry (also what <see cref="RunAsync"/> does each time it runs them); the number of reports seen.
    /// </summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        await Flusher.FlushAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var today = Today(now);

        // A day's report is tried until a day after the day ended (RFC 8460 section 4.1): yesterday's and the day before's.
        var unsent = await _store.ListUnsentAsync(today.AddDays(-1), today, cancellationToken).ConfigureAwait(false);
        foreach (var key in _retryAt.Keys)
        {
            if (key.Day < today.AddDays(-1))
            {
                _retryAt.Remove(key);
            }
        }

        foreach (var (domain, day) in unsent)
        {
            now = _time.GetUtcNow();
            if (_retryAt.TryGetValue((domain, day), out var retryAt) && retryAt > now)
            {
                continue;
            }

            var done = await SendAsync(domain, day, now, cancellationToken).ConfigureAwait(false);
            var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (done is null)
            {
                _retryAt.Remove((domain, day));
                continue;
            }

            // RFC 8460 section 4.1 wants the report within a day of its period's end: later it is given up.
            var giveUpAt = new DateTimeOffset(day.AddDays(2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            retryAt = now + _options.RetryInterval;
            if (retryAt >= giveUpAt)
            {
                TlsReportLog.GivenUp(_logger, domain, dayText, done);
                _retryAt[(domain, day)] = DateTimeOffset.MaxValue; // until the day is no longer listed
                continue;
            }

            if (done.Length > 0)
            {
                TlsReportLog.WillRetry(_logger, domain, dayText, retryAt, done);
            }

            _retryAt[(domain, day)] = retryAt;
        }

        return unsent.Count;
    }

    /// <summary>Reports waiting for a retry (not delivered, or claimed by another instance that may yet fail).</summary>
    public int PendingCount
    {
        get
        {
            var count = 0;
            foreach (var (_, retryAt) in _retryAt)
            {
                count += retryAt == DateTimeOffset.MaxValue ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>
    /// The next time the day's reports go: the next 00:00 UTC after <paramref name="now"/>, plus two flush intervals
    /// (every instance has flushed the day's last counts by then), plus the random wait.
    /// </summary>
    internal DateTimeOffset NextDailyRun(DateTimeOffset now)
    {
        var midnight = new DateTimeOffset(Today(now).AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return midnight + (2 * _options.FlushInterval) + _spread(_options.MaxSendDelay);
    }

    /// <summary>The report's id: the same for the same submitter, domain and day, so a report sent again is known for the same one.</summary>
    internal static string ReportId(string submitter, TlsReportDomainDay report) => ReportId(submitter, report.PolicyDomain, report.Day);

    internal static string ReportId(string submitter, string policyDomain, DateOnly day)
    {
        var text = $"{submitter}\n{policyDomain}\n{day:yyyy-MM-dd}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return string.Create(CultureInfo.InvariantCulture, $"{day:yyyyMMdd}.{Convert.ToHexString(hash[..12]).ToLowerInvariant()}");
    }

    private static DateOnly Today(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime);

    private bool HasRetryDue(DateTimeOffset now)
    {
        foreach (var (_, retryAt) in _retryAt)
        {
            if (retryAt <= now)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Null when the report is finished with (sent, no record); empty when another instance holds its claim (looked at
    /// again after the retry interval, in case that instance dies); else why to try again.
    /// </summary>
    private async Task<string?> SendAsync(string domain, DateOnly day, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        try
        {
            // Claimed first: of the instances only the one that holds the claim looks the record up and reads the sum.
            if (!await _store.TryClaimAsync(domain, day, Holder, now, now + ClaimTime, cancellationToken).ConfigureAwait(false))
            {
                TlsReportLog.ClaimedElsewhere(_logger, domain, dayText);
                return string.Empty;
            }

            string? again;
            try
            {
                again = await ClaimedSendAsync(domain, day, dayText, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await _store.ReleaseAsync(domain, day, Holder, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            if (again is null)
            {
                await _store.MarkSentAsync(domain, day, Holder, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                return null;
            }

            await _store.ReleaseAsync(domain, day, Holder, cancellationToken).ConfigureAwait(false);
            return again;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            TlsReportLog.Error(_logger, domain, dayText, e);
            return e.Message;
        }
    }

    /// <summary>Under the claim: null when done (sent, or the domain has no record), else why to try again.</summary>
    private async Task<string?> ClaimedSendAsync(string domain, DateOnly day, string dayText, CancellationToken cancellationToken)
    {
        var found = await _lookup.LookupAsync(domain, cancellationToken).ConfigureAwait(false);
        if (found.Record is not { } record)
        {
            if (found.IsTransient)
            {
                return "the _smtp._tls look-up failed: " + found.Reason;
            }

            TlsReportLog.NoRecord(_logger, domain, dayText, found.Reason);
            return null;
        }

        var report = await _store.ReadCountsAsync(domain, day, cancellationToken).ConfigureAwait(false);
        var heading = new TlsReportHeading(_options.OrganizationName, _options.EffectiveContactInfo, _options.SubmitterDomain, ReportId(_options.SubmitterDomain, domain, day));
        var taken = await _delivery.DeliverAsync(record, heading, report, cancellationToken).ConfigureAwait(false);
        return taken > 0 ? null : "no destination took the report";
    }
}
