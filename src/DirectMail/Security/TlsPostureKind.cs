namespace DirectMail.Security;

/// <summary>How the session that delivered (or last tried) a recipient was protected.</summary>
public enum TlsPostureKind
{
    /// <summary>No TLS: the message went in plaintext (or, on failure, no TLS session was established).</summary>
    None,

    /// <summary>TLS without an authenticated server: opportunistic STARTTLS (RFC 7435), or DANE with no usable TLSA record.</summary>
    Unauthenticated,

    /// <summary>TLS with the certificate validated against the host name by the platform's trust store (PKIX).</summary>
    PkixValidated,

    /// <summary>TLS required by an MTA-STS policy in <c>enforce</c> mode, with the MX host matching the policy and its certificate PKIX-validated.</summary>
    MtaSts,

    /// <summary>TLS authenticated by a DANE-EE(3) TLSA record (RFC 7672): the server's own certificate or key matched.</summary>
    DaneEe,

    /// <summary>TLS authenticated by a DANE-TA(2) TLSA record (RFC 7672): a trust anchor in the server's chain matched.</summary>
    DaneTa,
}
