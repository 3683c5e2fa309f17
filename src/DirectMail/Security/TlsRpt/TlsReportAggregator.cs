using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Net;
using System.Threading;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Counts TLS session results per policy domain, policy and UTC day (RFC 8460 section 4): successes, and failures by
/// result type, sending address, MX host and receiving address. Called on the delivery path for every handshake, from
/// many threads: a result already seen costs two dictionary look-ups and an interlocked increment, and takes no lock.
/// </summary>
/// <remarks>
/// Memory is bounded: beyond <see cref="MaxPolicies"/> policies a day new ones are not counted, and beyond
/// <see cref="MaxFailureRows"/> failure rows per policy a failure counts in the policy's total only. Recipient domains
/// come from the messages sent, so without a bound a bulk send to random domains would grow this without end.
/// </remarks>
internal sealed class TlsReportAggregator : ITlsResultSink
{
    public const int MaxPolicies = 100_000;
    public const int MaxFailureRows = 1_000;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<PolicyKey, PolicyCounts> _policies = new();
    private int _policyCount;
    private long _uncounted;

    public TlsReportAggregator(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Results not counted because a bound was reached.</summary>
    public long Uncounted => Interlocked.Read(ref _uncounted);

    /// <inheritdoc />
    public void Record(in TlsSessionResult result)
    {
        if (string.IsNullOrEmpty(result.PolicyDomain))
        {
            return;
        }

        var day = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);

        // A TLSA policy is the MX host's own (RFC 7672: TLSA records are per MX host), so each host is a policy of its own.
        var key = new PolicyKey(
            result.PolicyDomain,
            result.PolicyType,
            result.PolicyStrings.IsDefault ? ImmutableArray<string>.Empty : result.PolicyStrings,
            result.PolicyType == TlsPolicyType.Tlsa ? result.MxHost : null,
            day);
        if (!_policies.TryGetValue(key, out var counts))
        {
            counts = Add(key, result.PolicyMxHosts);
            if (counts is null)
            {
                Interlocked.Increment(ref _uncounted);
                return;
            }
        }

        if (result.Failure is not { } failure)
        {
            Interlocked.Increment(ref counts.Successes);
            return;
        }

        Interlocked.Increment(ref counts.Failures);
        counts.AddFailure(new FailureKey(failure, result.SendingAddress, result.MxHost ?? string.Empty, result.ReceivingAddress, result.ReceivingHelo), result.Detail);
    }

    /// <summary>
    /// Takes what was counted since the last take, of every day, for the shared store: each counter is read and set to
    /// zero in one interlocked exchange, so a session recorded meanwhile goes into this take or the next, never both.
    /// A day before <paramref name="today"/> that has nothing new is forgotten (its counts are all in the store).
    /// </summary>
    public IReadOnlyList<TlsReportDomainDay> TakeCounts(DateOnly today)
    {
        var byDomain = new Dictionary<(DateOnly, string), ImmutableArray<TlsReportPolicy>.Builder>();
        foreach (var entry in _policies)
        {
            var taken = entry.Value.Drain();
            if (taken is not null)
            {
                Add(byDomain, entry.Key, taken);
            }
            else if (entry.Key.Day < today && _policies.TryRemove(entry))
            {
                Interlocked.Decrement(ref _policyCount);
            }
        }

        return Days(byDomain);
    }

    /// <summary>
    /// Removes and returns every day before <paramref name="today"/>, one entry per policy domain and day (counts not
    /// taken by <see cref="TakeCounts"/> yet).
    /// </summary>
    public IReadOnlyList<TlsReportDomainDay> TakeDaysBefore(DateOnly today)
    {
        var byDomain = new Dictionary<(DateOnly, string), ImmutableArray<TlsReportPolicy>.Builder>();
        foreach (var (key, _) in _policies)
        {
            if (key.Day >= today || !_policies.TryRemove(key, out var counts))
            {
                continue;
            }

            Interlocked.Decrement(ref _policyCount);
            if (counts.Drain() is { } taken)
            {
                Add(byDomain, key, taken);
            }
        }

        return Days(byDomain);
    }

    /// <summary>A stable order of failure rows (by result type, then host, then addresses): two reports of the same day read the same.</summary>
    internal static void Order(ImmutableArray<TlsReportFailure>.Builder failures) => failures.Sort(static (a, b) =>
    {
        var c = a.ResultType.CompareTo(b.ResultType);
        c = c != 0 ? c : string.CompareOrdinal(a.ReceivingMxHost, b.ReceivingMxHost);
        c = c != 0 ? c : string.CompareOrdinal(a.ReceivingAddress?.ToString(), b.ReceivingAddress?.ToString());
        c = c != 0 ? c : string.CompareOrdinal(a.SendingAddress?.ToString(), b.SendingAddress?.ToString());
        return c != 0 ? c : string.CompareOrdinal(a.ReceivingHelo, b.ReceivingHelo);
    });

    private static void Add(Dictionary<(DateOnly, string), ImmutableArray<TlsReportPolicy>.Builder> byDomain, PolicyKey key, TlsReportPolicy taken)
    {
        if (!byDomain.TryGetValue((key.Day, taken.PolicyDomain), out var policies))
        {
            policies = ImmutableArray.CreateBuilder<TlsReportPolicy>();
            byDomain.Add((key.Day, taken.PolicyDomain), policies);
        }

        policies.Add(taken);
    }

    private static List<TlsReportDomainDay> Days(Dictionary<(DateOnly, string), ImmutableArray<TlsReportPolicy>.Builder> byDomain)
    {
        var days = new List<TlsReportDomainDay>(byDomain.Count);
        foreach (var ((day, domain), policies) in byDomain)
        {
            days.Add(new TlsReportDomainDay(day, domain, policies.ToImmutable()));
        }

        days.Sort(static (a, b) => a.Day != b.Day ? a.Day.CompareTo(b.Day) : string.CompareOrdinal(a.PolicyDomain, b.PolicyDomain));
        return days;
    }

    private PolicyCounts? Add(PolicyKey key, ImmutableArray<string> mxHosts)
    {
        if (Interlocked.Increment(ref _policyCount) > MaxPolicies)
        {
            Interlocked.Decrement(ref _policyCount);
            return _policies.TryGetValue(key, out var existing) ? existing : null;
        }

        var added = new PolicyCounts(key, mxHosts.IsDefault ? ImmutableArray<string>.Empty : mxHosts);
        var counts = _policies.GetOrAdd(key, added);
        if (!ReferenceEquals(counts, added))
        {
            Interlocked.Decrement(ref _policyCount); // another thread added it first
        }

        return counts;
    }

    private readonly struct PolicyKey : IEquatable<PolicyKey>
    {
        public PolicyKey(string domain, TlsPolicyType type, ImmutableArray<string> strings, string? mxHost, DateOnly day)
        {
            Domain = domain;
            Type = type;
            Strings = strings;
            MxHost = mxHost;
            Day = day;
        }

        public string Domain { get; }

        public TlsPolicyType Type { get; }

        public ImmutableArray<string> Strings { get; }

        public string? MxHost { get; }

        public DateOnly Day { get; }

        public bool Equals(PolicyKey other)
        {
            if (Type != other.Type || Day != other.Day
                || !string.Equals(Domain, other.Domain, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(MxHost, other.MxHost, StringComparison.OrdinalIgnoreCase)
                || Strings.Length != other.Strings.Length)
            {
                return false;
            }

            // A cached policy hands the same array to every session: compared by reference first.
            if (Strings == other.Strings)
            {
                return true;
            }

            for (var i = 0; i < Strings.Length; i++)
            {
                if (!string.Equals(Strings[i], other.Strings[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is PolicyKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(
            StringComparer.OrdinalIgnoreCase.GetHashCode(Domain),
            Type,
            Day,
            Strings.Length,
            MxHost is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(MxHost));
    }

    private readonly record struct FailureKey(TlsFailureType Type, IPAddress? Sending, string MxHost, IPAddress? Receiving, string? Helo);

    private sealed class FailureCount
    {
        public long Count;
        public string? Reason;
    }

    private sealed class PolicyCounts
    {
        public long Successes;
        public long Failures;
        private readonly PolicyKey _key;
        private readonly ImmutableArray<string> _mxHosts;
        private readonly ConcurrentDictionary<FailureKey, FailureCount> _failures = new();
        private int _rows;

        public PolicyCounts(PolicyKey key, ImmutableArray<string> mxHosts)
        {
            _key = key;
            _mxHosts = mxHosts;
        }

        public void AddFailure(FailureKey key, string? reason)
        {
            if (!_failures.TryGetValue(key, out var row))
            {
                if (Interlocked.Increment(ref _rows) > MaxFailureRows)
                {
                    Interlocked.Decrement(ref _rows);
                    if (!_failures.TryGetValue(key, out row))
                    {
                        return; // counted in the policy's total failures only
                    }
                }
                else
                {
                    var added = new FailureCount { Reason = reason };
                    row = _failures.GetOrAdd(key, added);
                    if (!ReferenceEquals(row, added))
                    {
                        Interlocked.Decrement(ref _rows);
                    }
                }
            }

            Interlocked.Increment(ref row.Count);
        }

        /// <summary>What was counted since the last drain, the counters set to zero; null when nothing was.</summary>
        public TlsReportPolicy? Drain()
        {
            var successes = Interlocked.Exchange(ref Successes, 0);
            var failed = Interlocked.Exchange(ref Failures, 0);
            ImmutableArray<TlsReportFailure>.Builder? failures = null;
            foreach (var (key, row) in _failures)
            {
                var count = Interlocked.Exchange(ref row.Count, 0);
                if (count != 0)
                {
                    (failures ??= ImmutableArray.CreateBuilder<TlsReportFailure>()).Add(new TlsReportFailure(key.Type, key.Sending, key.MxHost, key.Receiving, count, row.Reason, key.Helo));
                }
            }

            if (successes == 0 && failed == 0 && failures is null)
            {
                return null;
            }

            if (failures is not null)
            {
                Order(failures);
            }

            var mxHosts = !_mxHosts.IsEmpty ? _mxHosts : _key.MxHost is { } host ? [host.ToLowerInvariant()] : ImmutableArray<string>.Empty;
            return new TlsReportPolicy(_key.Domain.ToLowerInvariant(), _key.Type, _key.Strings, mxHosts, successes, failed, failures?.ToImmutable() ?? ImmutableArray<TlsReportFailure>.Empty);
        }
    }
}
