using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.TlsRpt;

/// <summary>The report claims of one process (no shared store): every claim of an unsent report by one holder succeeds.</summary>
internal sealed class InMemoryTlsReportStore : ITlsReportStore
{
    // Claims older than this are forgotten: a day's report is not claimed again weeks later.
    private static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    private readonly Dictionary<(string, DateOnly), Claim> _claims = new();
    private readonly object _gate = new();

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

    private void Prune(DateTimeOffset now)
    {
        var oldest = DateOnly.FromDateTime(now.UtcDateTime - Retention);
        List<(string, DateOnly)>? old = null;
        foreach (var key in _claims.Keys)
        {
            if (key.Item2 < oldest)
            {
                (old ??= []).Add(key);
            }
        }

        if (old is not null)
        {
            foreach (var key in old)
            {
                _claims.Remove(key);
            }
        }
    }

    private readonly record struct Claim(string Holder, DateTimeOffset Until, bool Sent);
}
