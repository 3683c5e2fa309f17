using System;
using System.Collections.Immutable;
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
