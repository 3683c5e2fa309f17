using System;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

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
    ImmutableArray<TlsReportFailure> Failures)
{
    /// <summary>
    /// The policy's identity in a shared store (a policy domain's day has one row per policy): the SHA-256, in hex, of
    /// its type, <c>mx-host</c> and <c>policy-string</c>. Sessions of two instances under the same policy add up; a
    /// policy changed mid-day (a new MTA-STS id, new TLSA records) is a row, and a report entry, of its own.
    /// </summary>
    public string StoreKey
    {
        get
        {
            var text = new StringBuilder();
            text.Append((int)PolicyType).Append('\n').Append(TlsReportStoreText.Join(MxHosts)).Append('\n').Append(TlsReportStoreText.Join(PolicyStrings));
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
        }
    }
}
