using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.TlsRpt;

/// <summary>The counts and report claims of one process (no shared store): the instances sharing it are in that process.</summary>
internal sealed class InMemoryTlsReportStore : ITlsReportStore
{
    // Claims and counts older than this are forgotten: a day's report is not claimed again weeks later.
    private static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    private readonly Dictionary<(string, DateOnly), Claim> _claims = new();
    private readonly Dictionary<(string, DateOnly), Dictionary<string, TlsReportPolicy>> _counts = new();
    private readonly Dictionary<string, long> _batches = new();
    private readonly object _gate = new();

    public ValueTask AddCountsAsync(string holder, long batch, IReadOnlyList<TlsReportDomainDay> counts, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_batches.TryGetValue(holder, out var last) && batch <= last)
            {
                return ValueTask.CompletedTask; // added before
            }

            _batches[holder] = batch;
            foreach (var day in counts)
            {
                if (!_counts.TryGetValue((day.PolicyDomain, day.Day), out var policies))
                {
                    _counts[(day.PolicyDomain, day.Day)] = policies = new Dictionary<string, TlsReportPolicy>(StringComparer.Ordinal);
                }

                foreach (var policy in day.Policies)
                {
                    var key = policy.StoreKey;
                    policies[key] = policies.TryGetValue(key, out var sum) ? Sum(sum, policy) : policy;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<(string PolicyDomain, DateOnly Day)>> ListUnsentAsync(DateOnly from, DateOnly before, CancellationToken cancellationToken)
    {
        var unsent = new List<(string, DateOnly)>();
        lock (_gate)
        {
            foreach (var key in _counts.Keys)
            {
                if (key.Item2 >= from && key.Item2 < before && !(_claims.TryGetValue(key, out var claim) && claim.Sent))
                {
                    unsent.Add(key);
                }
            }
        }

        unsent.Sort(static (a, b) => a.Item2 != b.Item2 ? a.Item2.CompareTo(b.Item2) : string.CompareOrdinal(a.Item1, b.Item1));
        return ValueTask.FromResult<IReadOnlyList<(string, DateOnly)>>(unsent);
    }

    public ValueTask<TlsReportDomainDay> ReadCountsAsync(string policyDomain, DateOnly day, CancellationToken cancellationToken)
    {
        var policies = ImmutableArray.CreateBuilder<TlsReportPolicy>();
        lock (_gate)
        {
            if (_counts.TryGetValue((policyDomain, day), out var sums))
            {
                policies.AddRange(sums.Values);
            }
        }

        return ValueTask.FromResult(TlsReportStoreText.Report(policyDomain, day, policies));
    }

    public ValueTask<bool> TryClaimAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Prune(now);
            if (_claims.TryGetValue((policyDomain, day), out var claim) && (claim.Sent || (claim.Holder != holder && claim.Until > now)))
            {
                return ValueTask.FromResult(false);
            }

            _claims[(policyDomain, day)] = new Claim(holder, claimUntil, Sent: false);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask MarkSentAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _claims[(policyDomain, day)] = new Claim(holder, now, Sent: true);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(string policyDomain, DateOnly day, string holder, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_claims.TryGetValue((policyDomain, day), out var claim) && !claim.Sent && claim.Holder == holder)
            {
                _claims.Remove((policyDomain, day));
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Two counts of one policy added: the totals, and the failure rows with the same key summed (the first reason kept).</summary>
    private static TlsReportPolicy Sum(TlsReportPolicy sum, TlsReportPolicy add)
    {
        var rows = new Dictionary<(TlsFailureType, string, string, string, string), TlsReportFailure>();
        foreach (var failure in sum.Failures)
        {
            rows[Key(failure)] = failure;
        }

        foreach (var failure in add.Failures)
        {
            rows[Key(failure)] = rows.TryGetValue(Key(failure), out var row)
                ? row with { FailedSessions = row.FailedSessions + failure.FailedSessions, ReasonCode = row.ReasonCode ?? failure.ReasonCode }
                : failure;
        }

        return sum with
        {
            SuccessfulSessions = sum.SuccessfulSessions + add.SuccessfulSessions,
            FailedSessions = sum.FailedSessions + add.FailedSessions,
            Failures = [.. rows.Values],
        };

        static (TlsFailureType, string, string, string, string) Key(TlsReportFailure f) =>
            (f.ResultType, TlsReportStoreText.Address(f.SendingAddress), f.ReceivingMxHost, TlsReportStoreText.Address(f.ReceivingAddress), f.ReceivingHelo ?? string.Empty);
    }

    private void Prune(DateTimeOffset now)
    {
        var oldest = DateOnly.FromDateTime(now.UtcDateTime - Retention);
        // Removing while enumerating is allowed for Dictionary (since .NET Core 3.0).
        foreach (var key in _claims.Keys)
        {
            if (key.Item2 < oldest)
            {
                _claims.Remove(key);
            }
        }

        foreach (var key in _counts.Keys)
        {
            if (key.Item2 < oldest)
            {
                _counts.Remove(key);
            }
        }
    }

    private readonly record struct Claim(string Holder, DateTimeOffset Until, bool Sent);
}
