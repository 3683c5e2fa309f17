namespace DirectMail.Security.MtaSts;

/// <summary>The <c>mode</c> of an MTA-STS policy (RFC 8461 section 5).</summary>
internal enum MtaStsMode
{
    /// <summary><c>none</c>: as if there were no policy.</summary>
    None,

    /// <summary><c>testing</c>: deliver as without a policy, and report what would have failed (TLS-RPT).</summary>
    Testing,

    /// <summary><c>enforce</c>: only matching MX hosts, TLS required, certificate validated; otherwise nothing is sent.</summary>
    Enforce,
}
