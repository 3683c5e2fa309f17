using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Data.Common;
using System.Globalization;
using System.Net;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// How the shared stores (SQLite, PostgreSQL) keep a report's lists and addresses in text columns: lists joined by
/// line feeds (a policy line, a TLSA record and an MX pattern hold none), an absent address as the empty string.
/// </summary>
internal static class TlsReportStoreText
{
    public static string Join(ImmutableArray<string> values) => values.IsDefaultOrEmpty ? string.Empty : string.Join('\n', values);

    public static ImmutableArray<string> Split(string text) => text.Length == 0 ? ImmutableArray<string>.Empty : [.. text.Split('\n')];

    public static string Address(IPAddress? address) => address?.ToString() ?? string.Empty;

    public static IPAddress? Address(string text) => text.Length == 0 ? null : IPAddress.Parse(text);

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Day(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The failure-row SELECT list both stores read with <see cref="AddFailure"/>, in its column order.</summary>
    public const string FailureColumns = "policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo, sessions, reason";

    /// <summary>Adds the failure row <paramref name="reader"/> is on (columns <see cref="FailureColumns"/>) to its policy's list.</summary>
    public static void AddFailure(DbDataReader reader, Dictionary<string, ImmutableArray<TlsReportFailure>.Builder> failures)
    {
        var key = reader.GetString(0);
        if (!failures.TryGetValue(key, out var list))
        {
            failures[key] = list = ImmutableArray.CreateBuilder<TlsReportFailure>();
        }

        list.Add(new TlsReportFailure(
            (TlsFailureType)reader.GetInt32(1),
            Address(reader.GetString(2)),
            reader.GetString(3),
            Address(reader.GetString(4)),
            reader.GetInt64(6),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.GetString(5) is { Length: > 0 } helo ? helo : null));
    }

    /// <summary>
    /// A day's report from the rows a store summed: its failure rows cut to <see cref="TlsReportAggregator.MaxFailureRows"/>
    /// per policy (the most frequent kept: several instances each bring up to that many), every list in a stable order.
    /// </summary>
    public static TlsReportDomainDay Report(string policyDomain, DateOnly day, ImmutableArray<TlsReportPolicy>.Builder policies)
    {
        for (var i = 0; i < policies.Count; i++)
        {
            var policy = policies[i];
            var failures = policy.Failures.ToBuilder();
            if (failures.Count > TlsReportAggregator.MaxFailureRows)
            {
                failures.Sort(static (a, b) => b.FailedSessions.CompareTo(a.FailedSessions));
                failures.Count = TlsReportAggregator.MaxFailureRows;
            }

            TlsReportAggregator.Order(failures);
            policies[i] = policy with { Failures = failures.ToImmutable() };
        }

        policies.Sort(static (a, b) => a.PolicyType != b.PolicyType ? a.PolicyType.CompareTo(b.PolicyType) : string.CompareOrdinal(Join(a.PolicyStrings) + "\n" + Join(a.MxHosts), Join(b.PolicyStrings) + "\n" + Join(b.MxHosts)));
        return new TlsReportDomainDay(day, policyDomain, policies.ToImmutable());
    }
}
