using System.Collections.Immutable;
using System.Net;

namespace DirectMail.Security;

/// <summary>
/// The result of one attempt to establish (or to require) TLS with one MX host: what a TLS-RPT report counts
/// (RFC 8460 section 4.4). Recorded for successes and for every failure type, per policy domain.
/// </summary>
/// <param name="PolicyDomain">The recipient domain whose policy applied (the domain TLS-RPT reports for).</param>
/// <param name="PolicyType">Which policy applied.</param>
/// <param name="MxHost">The MX host name.</param>
/// <param name="ReceivingAddress">The MX host's address, when a connection was made.</param>
/// <param name="Failure">Null on success; otherwise what failed.</param>
/// <param name="Detail">A short human description of a failure (the handshake's message), or null.</param>
internal readonly record struct TlsSessionResult(
    string PolicyDomain,
    TlsPolicyType PolicyType,
    string MxHost,
    IPAddress? ReceivingAddress,
    TlsFailureType? Failure,
    string? Detail)
{
    /// <summary>This host's own address on the connection (the report's <c>sending-mta-ip</c>), when a connection was made.</summary>
    public IPAddress? SendingAddress { get; init; }

    /// <summary>The host name the MX host gave in its EHLO reply (the report's <c>receiving-mx-helo</c>), when it got that far.</summary>
    public string? ReceivingHelo { get; init; }

    /// <summary>
    /// The policy as TLS-RPT quotes it (<c>policy-string</c>): an MTA-STS policy's lines, or the TLSA records in
    /// presentation form; empty for no policy. Sessions under different policy strings are counted apart.
    /// </summary>
    public ImmutableArray<string> PolicyStrings { get; init; }

    /// <summary>The policy's MX patterns (MTA-STS <c>mx</c> lines), the report's <c>mx-host</c>; empty when the policy has none.</summary>
    public ImmutableArray<string> PolicyMxHosts { get; init; }
}
