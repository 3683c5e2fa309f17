namespace DirectMail.Security;

/// <summary>Which policy governed a TLS session, as TLS-RPT names it (RFC 8460 section 4.4: <c>tlsa</c>, <c>sts</c>, <c>no-policy-found</c>).</summary>
internal enum TlsPolicyType
{
    /// <summary>No MTA-STS policy and no DANE TLSA records applied.</summary>
    NoPolicyFound,

    /// <summary>DANE TLSA records (RFC 7672).</summary>
    Tlsa,

    /// <summary>An MTA-STS policy (RFC 8461).</summary>
    Sts,
}
