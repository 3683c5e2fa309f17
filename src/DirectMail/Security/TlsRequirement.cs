using System.Collections.Immutable;

namespace DirectMail.Security;

/// <summary>
/// What the transport-security policy of a recipient domain demands of one MX host, decided before any connection
/// (<see cref="TransportSecurityResolver"/>) and handed to the session, which never looks a policy up. One instance
/// per decision; the opportunistic one is shared.
/// </summary>
internal sealed class TlsRequirement
{
    /// <summary>Today's behaviour: STARTTLS when offered, no certificate check, plaintext when not (no policy found).</summary>
    public static readonly TlsRequirement Opportunistic = new(TlsRequirementKind.Opportunistic, null, TlsPolicyType.NoPolicyFound, null, null, null);

    private TlsRequirement(TlsRequirementKind kind, ITlsCertificateCheck? check, TlsPolicyType policyType, string? policyDomain, TlsFailureType? failure, string? detail)
    {
        Kind = kind;
        CertificateCheck = check;
        PolicyType = policyType;
        PolicyDomain = policyDomain;
        Failure = failure;
        Detail = detail;
    }

    public TlsRequirementKind Kind { get; }

    /// <summary>
    /// The certificate check: enforced for <see cref="TlsRequirementKind.AuthenticationRequired"/>; for an
    /// <see cref="TlsRequirementKind.Opportunistic"/> requirement (MTA-STS <c>testing</c>) only observed, its verdict
    /// recorded and reported, the session going on either way. Null when the certificate is not looked at.
    /// </summary>
    public ITlsCertificateCheck? CertificateCheck { get; }

    /// <summary>The policy that made this requirement, as TLS-RPT names it.</summary>
    public TlsPolicyType PolicyType { get; }

    /// <summary>The recipient domain whose policy this is; null for <see cref="Opportunistic"/>.</summary>
    public string? PolicyDomain { get; }

    /// <summary>
    /// For <see cref="TlsRequirementKind.Unusable"/>: why the host is not tried. For an observed (<c>testing</c>) requirement:
    /// a failure already known before connecting (the MX host is not in the policy), reported with the session's result.
    /// </summary>
    public TlsFailureType? Failure { get; }

    /// <summary>A short human reason to go with <see cref="Failure"/>, or null.</summary>
    public string? Detail { get; }

    /// <summary>
    /// The policy as TLS-RPT quotes it (RFC 8460 section 4.3, <c>policy-string</c>): the MTA-STS policy's lines as
    /// fetched, or the host's TLSA records in presentation form; default when there is none to quote.
    /// </summary>
    public ImmutableArray<string> PolicyStrings { get; private set; }

    /// <summary>The MTA-STS policy's <c>mx</c> patterns (TLS-RPT's <c>mx-host</c>); default for DANE and no policy.</summary>
    public ImmutableArray<string> PolicyMxHosts { get; private set; }

    /// <summary>True when no plaintext session may carry mail: STARTTLS must be offered and the handshake succeed.</summary>
    public bool RequiresTls => Kind is TlsRequirementKind.EncryptionRequired or TlsRequirementKind.AuthenticationRequired;

    /// <summary>True when the certificate check is enforced: a certificate it refuses fails the handshake.</summary>
    public bool EnforcesCertificate => Kind == TlsRequirementKind.AuthenticationRequired;

    /// <summary>True for DANE (RFC 7672): a missing STARTTLS or failed handshake is reported as <see cref="TlsFailureType.DaneRequired"/>.</summary>
    public bool IsDane => PolicyType == TlsPolicyType.Tlsa;

    /// <summary>
    /// Which sessions may serve this requirement, for the pool: a session is reused only for a requirement of the same
    /// class (an opportunistic session never carries mail an MTA-STS or DANE policy governs, nor the reverse).
    /// </summary>
    public int PoolClass => Kind switch
    {
        TlsRequirementKind.Opportunistic => CertificateCheck is null ? 0 : 1,
        TlsRequirementKind.EncryptionRequired => 2,
        _ => 3 + (int)CertificateCheck!.PostureOnSuccess,
    };

    /// <summary>Sets what TLS-RPT quotes of the policy (on a requirement just made; never on <see cref="Opportunistic"/>).</summary>
    public TlsRequirement Quoting(ImmutableArray<string> policyStrings, ImmutableArray<string> mxHosts = default)
    {
        System.Diagnostics.Debug.Assert(!ReferenceEquals(this, Opportunistic), "the shared requirement quotes no policy");
        PolicyStrings = policyStrings;
        PolicyMxHosts = mxHosts;
        return this;
    }

    /// <summary>MTA-STS <c>testing</c>: delivered as today, the certificate check observed and its failures reported (<paramref name="failure"/>: one known before connecting).</summary>
    public static TlsRequirement Observed(ITlsCertificateCheck check, TlsPolicyType policyType, string policyDomain, TlsFailureType? failure = null, string? detail = null) =>
        new(TlsRequirementKind.Opportunistic, check, policyType, policyDomain, failure, detail);

    /// <summary>TLS required without authentication (DANE TLSA records present, none usable).</summary>
    public static TlsRequirement Encrypted(TlsPolicyType policyType, string policyDomain) =>
        new(TlsRequirementKind.EncryptionRequired, null, policyType, policyDomain, null, null);

    /// <summary>TLS required, the certificate accepted by <paramref name="check"/>.</summary>
    public static TlsRequirement Authenticated(ITlsCertificateCheck check, TlsPolicyType policyType, string policyDomain) =>
        new(TlsRequirementKind.AuthenticationRequired, check, policyType, policyDomain, null, null);

    /// <summary>The host is not tried: <paramref name="failure"/> and <paramref name="detail"/> say why (reported, and the recipients' detail).</summary>
    public static TlsRequirement Unusable(TlsFailureType failure, string detail, TlsPolicyType policyType, string policyDomain) =>
        new(TlsRequirementKind.Unusable, null, policyType, policyDomain, failure, detail);

    /// <summary>The failure to report when TLS is required and the server does not offer STARTTLS, refuses it, or the handshake fails for another reason than the certificate.</summary>
    public TlsFailureType NoTlsFailure(bool offered) => IsDane ? TlsFailureType.DaneRequired : offered ? TlsFailureType.ValidationFailure : TlsFailureType.StartTlsNotSupported;
}
