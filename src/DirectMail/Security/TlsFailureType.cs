namespace DirectMail.Security;

/// <summary>
/// Why a TLS session with an MX host could not be used, named as TLS-RPT reports name it (RFC 8460 section 4.3).
/// </summary>
public enum TlsFailureType
{
    /// <summary><c>starttls-not-supported</c>: TLS was required and the server did not offer STARTTLS (or refused it).</summary>
    StartTlsNotSupported,

    /// <summary><c>certificate-host-mismatch</c>: the certificate does not name the MX host.</summary>
    CertificateHostMismatch,

    /// <summary><c>certificate-expired</c>: the certificate has expired (or is not yet valid).</summary>
    CertificateExpired,

    /// <summary><c>certificate-not-trusted</c>: the certificate chain does not end at a trusted root.</summary>
    CertificateNotTrusted,

    /// <summary><c>validation-failure</c>: any other failure of the handshake or of certificate validation.</summary>
    ValidationFailure,

    /// <summary><c>tlsa-invalid</c>: the TLSA records could not be used, or no TLSA record matched the certificate.</summary>
    TlsaInvalid,

    /// <summary><c>dnssec-invalid</c>: the TLSA (or MX, or address) lookup failed DNSSEC validation (bogus), or failed (SERVFAIL).</summary>
    DnssecInvalid,

    /// <summary><c>dane-required</c>: DANE applies, and the server did not offer STARTTLS or TLS could not be negotiated.</summary>
    DaneRequired,

    /// <summary><c>sts-policy-fetch-error</c>: the MTA-STS policy could not be fetched (HTTPS error, timeout, non-200).</summary>
    StsPolicyFetchError,

    /// <summary><c>sts-policy-invalid</c>: the MTA-STS policy was fetched but does not parse, or the MX host does not match it.</summary>
    StsPolicyInvalid,

    /// <summary><c>sts-webpki-invalid</c>: the certificate of the MTA-STS policy host did not validate.</summary>
    StsWebPkiInvalid,
}
