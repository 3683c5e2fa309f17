namespace DirectMail.Security.Dane;

/// <summary>What a TLSA lookup for one MX host means for delivery (RFC 7672 section 2.2).</summary>
internal enum TlsaLookupStatus
{
    /// <summary>
    /// DANE does not apply: the MX host or its addresses are not DNSSEC-validated, the resolver's validation is not
    /// believed, there are no TLSA records (a denial, secure or not), or the TLSA records are not validated (insecure).
    /// Delivery goes on as without DANE.
    /// </summary>
    NotApplicable,

    /// <summary>Validated TLSA records, at least one usable: TLS is required and the certificate must match one.</summary>
    Usable,

    /// <summary>
    /// Validated TLSA records, none usable (RFC 7672 section 2.2: unusable records still mean the host supports TLS):
    /// TLS is required, without a certificate check.
    /// </summary>
    NoneUsable,

    /// <summary>The lookup failed (SERVFAIL, a bogus answer, a timeout): the host is not tried and nothing is sent in plaintext.</summary>
    Failed,
}
