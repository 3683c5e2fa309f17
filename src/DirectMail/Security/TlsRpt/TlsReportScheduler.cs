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
/// Sends each day's reports after 00:00 UTC plus a random wait (RFC 8460 section 4.1: spread, not all at midnight):
/// per policy domain, the <c>_smtp._tls</c> record is looked up, the report claimed in the shared store (so that of
/// several instances on one store exactly one sends it), and delivered; a report no destination took is tried again
/// every <see cref="TlsReportingOptions.RetryInterval"/> until a day after its day ended.
/// </summary>
internal sealed class TlsReportScheduler
{
    // How long a claim holds if its holder neither sends nor gives it back (the process died mid-send).
    private static readonly TimeSpan ClaimTime = TimeSpan.FromMinutes(30);

    private readonly TlsReportingOptions _options;
    private readonly TlsReportAggregator _aggregator;
    private readonly TlsRptRecordLookup _lookup;
    private readonly TlsReportDelivery _delivery;
    private readonly ITlsReportStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<TimeSpan, TimeSpan> _spread;
    private readonly List<Pending> _pending = [];

    /// <param name="options">The settings (validated).</param>
    /// <param name="aggregator">What was counted.</param>
    /// <param name="lookup">The record look-up.</param>
    /// <param name="delivery">The sender.</param>
    /// <param name="store">The claims.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="holder">This instance's name in claims.</param>
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
        _aggregator = aggregator;
        _lookup = lookup;
        _delivery = delivery;
        _store = store;
        _time = timeProvider;
        _logger = logger;
        Holder = holder ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}");
        _spread = spread ?? (static max => TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * max.Ticks)));
    }

    /// <summary>This instance's name in the store's claims.</summary>
    public string Holder { get; }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled: each day's reports after the next midnight and its random wait.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var nextDaily = NextDailyRun(_time.GetUtcNow());
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            var wake = nextDaily;
            foreach (var pending in _pending)
            {
                wake = pending.NextAttempt < wake ? pending.NextAttempt : wake;
            }

            if (wake > now)
            {
                try
                {
                    await Task.Delay(wake - now, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                now = _time.GetUtcNow();
            }

            if (now >= nextDaily)
            {
                nextDaily = NextDailyRun(now);
                TakeFinishedDays(now);
                TlsReportLog.Run(_logger, _pending.Count, Today(now).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), nextDaily);
            }

            await SendPendingAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes every finished day from the aggregator and sends what is due now (also what <see cref="RunAsync"/> does each time it wakes).</summary>
    public async Task SendDueAsync(CancellationToken cancellationToken)
    {
        TakeFinishedDays(_time.GetUtcNow());
        await SendPendingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reports waiting for a retry.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>The next time the day's reports go: the next 00:00 UTC after <paramref name="now"/>, plus the random wait.</summary>
    internal DateTimeOffset NextDailyRun(DateTimeOffset now)
    {
        var midnight = new DateTimeOffset(Today(now).AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return midnight + _spread(_options.MaxSendDelay);
    }

    /// <summary>The report's id: the same for the same submitter, domain and day, so a report sent again is known for the same one.</summary>
    internal static string ReportId(string submitter, TlsReportDomainDay report)
    {
        var text = $"{submitter}\n{report.PolicyDomain}\n{report.Day:yyyy-MM-dd}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return string.Create(CultureInfo.InvariantCulture, $"{report.Day:yyyyMMdd}.{Convert.ToHexString(hash[..12]).ToLowerInvariant()}");
    }

    private static DateOnly Today(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime);

    private void TakeFinishedDays(DateTimeOffset now)
    {
        foreach (var report in _aggregator.TakeDaysBefore(Today(now)))
        {
            _pending.Add(new Pending(report, now));
        }
    }

    private async Task SendPendingAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _pending.Count; i++)
        {
            var now = _time.GetUtcNow();
            var pending = _pending[i];
            if (pending.NextAttempt > now)
            {
                continue;
            }

            var done = await SendAsync(pending.Report, now, cancellationToken).ConfigureAwait(false);
            var day = TlsReportDelivery.DayText(pending.Report);
            if (done is null)
            {
                _pending.RemoveAt(i--);
                continue;
            }

            // RFC 8460 section 4.1 wants the report within a day of its period's end: later it is given up.
            var giveUpAt = new DateTimeOffset(pending.Report.Day.AddDays(2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var retryAt = now + _options.RetryInterval;
            if (retryAt >= giveUpAt)
            {
                TlsReportLog.GivenUp(_logger, pending.Report.PolicyDomain, day, done);
                _pending.RemoveAt(i--);
                continue;
            }

            TlsReportLog.WillRetry(_logger, pending.Report.PolicyDomain, day, retryAt, done);
            _pending[i] = pending with { NextAttempt = retryAt };
        }
    }

    /// <summary>Null when the report is finished with (sent, no record, sent by another); else why to try again.</summary>
    private async Task<string?> SendAsync(TlsReportDomainDay report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var day = TlsReportDelivery.DayText(report);
        try
        {
            var found = await _lookup.LookupAsync(report.PolicyDomain, cancellationToken).ConfigureAwait(false);
            if (found.Record is not { } record)
            {
                if (found.IsTransient)
                {
                    return "the _smtp._tls look-up failed: " + found.Reason;
                }

                TlsReportLog.NoRecord(_logger, report.PolicyDomain, day, found.Reason);
                return null;
            }

            if (!await _store.TryClaimAsync(report.PolicyDomain, report.Day, Holder, now, now + ClaimTime, cancellationToken).ConfigureAwait(false))
            {
                TlsReportLog.ClaimedElsewhere(_logger, report.PolicyDomain, day);
                return null;
            }

            var heading = new TlsReportHeading(_options.OrganizationName, _options.EffectiveContactInfo, _options.SubmitterDomain, ReportId(_options.SubmitterDomain, report));
            int taken;
            try
            {
                taken = await _delivery.DeliverAsync(record, heading, report, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await _store.ReleaseAsync(report.PolicyDomain, report.Day, Holder, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            if (taken > 0)
            {
                await _store.MarkSentAsync(report.PolicyDomain, report.Day, Holder, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                return null;
            }

            await _store.ReleaseAsync(report.PolicyDomain, report.Day, Holder, cancellationToken).ConfigureAwait(false);
            return "no destination took the report";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            TlsReportLog.Error(_logger, report.PolicyDomain, day, e);
            return e.Message;
        }
    }

    private sealed record Pending(TlsReportDomainDay Report, DateTimeOffset NextAttempt);
}
