using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Moves this instance's counts from the in-process <see cref="TlsReportAggregator"/> into the shared store, where the
/// reports are built from the sum of every instance's. One batch at a time: what the aggregator counted since the last
/// batch, numbered; a batch the store did not confirm is sent again, with the same number, before anything new is
/// taken, and the store adds a number once. So a count is added at most once (a lost answer, a retry, two calls at
/// once); counts not yet in a confirmed batch when the process dies are lost.
/// </summary>
internal sealed class TlsReportFlusher
{
    private readonly TlsReportAggregator _aggregator;
    private readonly ITlsReportStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _batch;
    private IReadOnlyList<TlsReportDomainDay>? _unconfirmed;

    public TlsReportFlusher(TlsReportAggregator aggregator, ITlsReportStore store, string holder, TimeProvider timeProvider, ILogger logger)
    {
        _aggregator = aggregator;
        _store = store;
        Holder = holder;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>This instance's name on its batches.</summary>
    public string Holder { get; }

    /// <summary>Adds what was counted since the last confirmed batch to the store; false (logged) when the store did not take it.</summary>
    public async Task<bool> FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_unconfirmed is null)
            {
                var counts = _aggregator.TakeCounts(DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime));
                if (counts.Count == 0)
                {
                    return true;
                }

                _unconfirmed = counts;
                _batch++;
            }

            try
            {
                await _store.AddCountsAsync(Holder, _batch, _unconfirmed, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Kept as it is, with its number: the store may have added it and lost only the answer.
                TlsReportLog.FlushFailed(_logger, Sessions(_unconfirmed), e);
                return false;
            }

            TlsReportLog.Flushed(_logger, _batch, Sessions(_unconfirmed));
            _unconfirmed = null;
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static long Sessions(IReadOnlyList<TlsReportDomainDay> counts)
    {
        long sessions = 0;
        foreach (var day in counts)
        {
            foreach (var policy in day.Policies)
            {
                sessions += policy.SuccessfulSessions + policy.FailedSessions;
            }
        }

        return sessions;
    }
}
