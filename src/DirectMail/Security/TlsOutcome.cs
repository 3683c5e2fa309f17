namespace DirectMail.Security;

/// <summary>The TLS result of one session's setup, as TLS-RPT counts it (see <see cref="Smtp.SmtpSession"/>).</summary>
/// <param name="Attempted">True when TLS was required, or tried under a policy; false when there is nothing to report.</param>
/// <param name="Failure">Why TLS failed (or, under an observed requirement, what the check found); null on success.</param>
/// <param name="Detail">A short human description of the failure, or null.</param>
internal readonly record struct TlsOutcome(bool Attempted, TlsFailureType? Failure, string? Detail);
