using System.Collections.Immutable;

namespace DirectMail.Security.TlsRpt;

/// <summary>One policy's day in a report (RFC 8460 section 4.4: one entry of <c>policies</c>).</summary>
/// <param name="PolicyDomain">The domain the policy is for.</param>
/// <param name="PolicyType">Which kind of policy.</param>
/// <param name="PolicyStrings">The policy as quoted (<c>policy-string</c>); empty for no policy.</param>
/// <param name="MxHosts">The report's <c>mx-host</c>: the MTA-STS patterns, or the MX host a TLSA policy is for; may be empty.</param>
/// <param name="SuccessfulSessions">Sessions that established TLS as the policy required.</param>
/// <param name="FailedSessions">Sessions that failed, whether or not each has a failure detail.</param>
/// <param name="Failures">The failures grouped by what failed and where.</param>
internal sealed record TlsReportPolicy(
    string PolicyDomain,
    TlsPolicyType PolicyType,
    ImmutableArray<string> PolicyStrings,
    ImmutableArray<string> MxHosts,
    long SuccessfulSessions,
    long FailedSessions,
    ImmutableArray<TlsReportFailure> Failures);
