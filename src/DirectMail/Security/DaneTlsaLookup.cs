using System.Collections.Immutable;

namespace DirectMail.Security;

/// <summary>The DANE verdict on one MX host (<see cref="IDaneTlsaSource"/>).</summary>
/// <param name="Status">What was found.</param>
/// <param name="Check">For <see cref="DaneTlsaStatus.Usable"/>: the check of the server certificate against the usable TLSA records; null otherwise.</param>
/// <param name="Failure">For <see cref="DaneTlsaStatus.Failed"/>: the TLS-RPT failure (<see cref="TlsFailureType.DnssecInvalid"/>, <see cref="TlsFailureType.TlsaInvalid"/>); null otherwise.</param>
/// <param name="Detail">A short human reason (what failed, which records), or null.</param>
internal readonly record struct DaneTlsaLookup(DaneTlsaStatus Status, ITlsCertificateCheck? Check, TlsFailureType? Failure, string? Detail)
{
    /// <summary>DANE does not apply to the host.</summary>
    public static DaneTlsaLookup NotApplicable => default;

    /// <summary>The host's TLSA records in presentation form, for TLS-RPT's <c>policy-string</c>; default when none were found.</summary>
    public ImmutableArray<string> PolicyStrings { get; init; }
}
