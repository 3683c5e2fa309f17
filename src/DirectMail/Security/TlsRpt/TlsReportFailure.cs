using System.Net;

namespace DirectMail.Security.TlsRpt;

/// <summary>One row of a policy's <c>failure-details</c> (RFC 8460 section 4.4).</summary>
/// <param name="ResultType">What failed.</param>
/// <param name="SendingAddress">This host's address (<c>sending-mta-ip</c>), when known.</param>
/// <param name="ReceivingMxHost">The MX host (<c>receiving-mx-hostname</c>).</param>
/// <param name="ReceivingAddress">The MX host's address (<c>receiving-ip</c>), when a connection was made.</param>
/// <param name="FailedSessions">How many sessions failed so (<c>failed-session-count</c>).</param>
/// <param name="ReasonCode">The first failure's own description (<c>failure-reason-code</c>), or null.</param>
/// <param name="ReceivingHelo">The host name in the MX host's EHLO reply (<c>receiving-mx-helo</c>), when it got that far.</param>
internal sealed record TlsReportFailure(
    TlsFailureType ResultType,
    IPAddress? SendingAddress,
    string ReceivingMxHost,
    IPAddress? ReceivingAddress,
    long FailedSessions,
    string? ReasonCode,
    string? ReceivingHelo = null);
