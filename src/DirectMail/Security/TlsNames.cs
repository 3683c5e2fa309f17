namespace DirectMail.Security;

/// <summary>The names of failure types and postures as they are written (TLS-RPT JSON, <c>directmail --json</c>).</summary>
internal static class TlsNames
{
    /// <summary>The result-type of RFC 8460 section 4.3: <c>starttls-not-supported</c>, <c>certificate-host-mismatch</c>...</summary>
    public static string Of(TlsFailureType failure) => failure switch
    {
        TlsFailureType.StartTlsNotSupported => "starttls-not-supported",
        TlsFailureType.CertificateHostMismatch => "certificate-host-mismatch",
        TlsFailureType.CertificateExpired => "certificate-expired",
        TlsFailureType.CertificateNotTrusted => "certificate-not-trusted",
        TlsFailureType.TlsaInvalid => "tlsa-invalid",
        TlsFailureType.DnssecInvalid => "dnssec-invalid",
        TlsFailureType.DaneRequired => "dane-required",
        TlsFailureType.StsPolicyFetchError => "sts-policy-fetch-error",
        TlsFailureType.StsPolicyInvalid => "sts-policy-invalid",
        TlsFailureType.StsWebPkiInvalid => "sts-webpki-invalid",
        _ => "validation-failure",
    };

    /// <summary>A posture: <c>none</c>, <c>unauthenticated</c>, <c>pkix</c>, <c>mta-sts</c>, <c>dane-ee</c>, <c>dane-ta</c>.</summary>
    public static string Of(TlsPostureKind kind) => kind switch
    {
        TlsPostureKind.Unauthenticated => "unauthenticated",
        TlsPostureKind.PkixValidated => "pkix",
        TlsPostureKind.MtaSts => "mta-sts",
        TlsPostureKind.DaneEe => "dane-ee",
        TlsPostureKind.DaneTa => "dane-ta",
        _ => "none",
    };

    /// <summary>The policy-type of RFC 8460 section 4.4: <c>tlsa</c>, <c>sts</c> or <c>no-policy-found</c>.</summary>
    public static string Of(TlsPolicyType type) => type switch
    {
        TlsPolicyType.Tlsa => "tlsa",
        TlsPolicyType.Sts => "sts",
        _ => "no-policy-found",
    };
}
