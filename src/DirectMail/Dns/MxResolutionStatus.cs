namespace DirectMail.Dns;

/// <summary>The outcome of resolving where mail for a domain goes.</summary>
public enum MxResolutionStatus
{
    /// <summary>At least one target with at least one address: deliver to <see cref="MxResolution.Targets"/> in order.</summary>
    Success = 0,

    /// <summary>The domain does not exist (NXDOMAIN). Permanent: bounce with 550 5.1.2.</summary>
    DomainNotFound,

    /// <summary>The domain publishes a null MX (RFC 7505): it accepts no mail. Permanent: bounce with 556 5.1.10; never connect, never use its A record.</summary>
    NullMx,

    /// <summary>
    /// MX records exist but none names a host with a usable address (all skipped: no such host, no address of an
    /// allowed family, IP-literal targets), or the domain has neither MX nor address records. Permanent: 550 5.4.4.
    /// </summary>
    NoUsableTargets,

    /// <summary>The domain is not a valid domain name or address literal, or its Unicode form cannot be converted to A-labels. Permanent: 553 5.1.3.</summary>
    InvalidDomain,

    /// <summary>
    /// A DNS lookup failed in a way that may pass: SERVFAIL, REFUSED, a timeout or a network error, for the MX query,
    /// or for every MX host when none could be resolved. Transient: try again later (451 4.4.3); never fall back to the
    /// domain's A record.
    /// </summary>
    DnsFailure,
}
