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
        counts.AddFailure(new FailureKey(failure, result.SendingAddress, result.MxHost ?? string.Empty, result.ReceivingAddress), result.Detail);
    }

    /// <summary>
    /// Removes and returns every day before <paramref name="today"/>, one entry per policy domain and day. The report
    /// runs after the day has ended, so no result is still being counted into what it takes.
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
            var domain = key.Domain.ToLowerInvariant();
            if (!byDomain.TryGetValue((key.Day, domain), out var policies))
            {
                policies = ImmutableArray.CreateBuilder<TlsReportPolicy>();
                byDomain.Add((key.Day, domain), policies);
            }

            policies.Add(counts.Snapshot(domain));
        }

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

    private readonly record struct FailureKey(TlsFailureType Type, IPAddress? Sending, string MxHost, IPAddress? Receiving);

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

        public TlsReportPolicy Snapshot(string domain)
        {
            var failures = ImmutableArray.CreateBuilder<TlsReportFailure>(_failures.Count);
            foreach (var (key, row) in _failures)
            {
                failures.Add(new TlsReportFailure(key.Type, key.Sending, key.MxHost, key.Receiving, Interlocked.Read(ref row.Count), row.Reason));
            }

            // A stable order (by result type, then host, then count): two reports of the same day read the same.
            failures.Sort(static (a, b) =>
            {
                var c = a.ResultType.CompareTo(b.ResultType);
                c = c != 0 ? c : string.CompareOrdinal(a.ReceivingMxHost, b.ReceivingMxHost);
                c = c != 0 ? c : string.CompareOrdinal(a.ReceivingAddress?.ToString(), b.ReceivingAddress?.ToString());
                return c != 0 ? c : string.CompareOrdinal(a.SendingAddress?.ToString(), b.SendingAddress?.ToString());
            });

            var mxHosts = !_mxHosts.IsEmpty ? _mxHosts : _key.MxHost is { } host ? [host] : ImmutableArray<string>.Empty;
            return new TlsReportPolicy(domain, _key.Type, _key.Strings, mxHosts, Interlocked.Read(ref Successes), Interlocked.Read(ref Failures), failures.ToImmutable());
        }
    }
}
