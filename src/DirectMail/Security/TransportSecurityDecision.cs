namespace DirectMail.Security;

/// <summary>What <see cref="TransportSecurityResolver"/> decided for a domain delivery, and a policy failure to report with it.</summary>
/// <param name="Policy">The per-host requirements.</param>
/// <param name="PolicyFailure">An MTA-STS policy fetch that failed during this decision (reported once to the TLS-RPT sink), or null.</param>
/// <param name="Detail">What failed, or null.</param>
internal readonly record struct TransportSecurityDecision(TransportSecurityPolicy Policy, TlsFailureType? PolicyFailure = null, string? Detail = null);
