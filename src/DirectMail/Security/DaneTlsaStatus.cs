namespace DirectMail.Security;

/// <summary>What the DANE lookup of one MX host found (RFC 7672 section 2.2), as <see cref="IDaneTlsaSource"/> reports it.</summary>
internal enum DaneTlsaStatus
{
    /// <summary>DANE does not apply: the MX host (or its address, or its TLSA RRset) is not DNSSEC-secure, or there is no TLSA record.</summary>
    NotApplicable,

    /// <summary>Secure TLSA records with at least one usable: TLS required, the certificate must match (<see cref="DaneTlsaLookup.Check"/>).</summary>
    Usable,

    /// <summary>Secure TLSA records, none usable (unknown usages, PKIX-TA/EE): TLS required, the certificate not checked.</summary>
    Unusable,

    /// <summary>The lookup failed (SERVFAIL, timeout) or validated as bogus: the host is not tried, and never in plaintext.</summary>
    Failed,
}
