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
    string? Detail);
