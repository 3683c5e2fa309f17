namespace DirectMail.Security;

/// <summary>What a policy demands of the TLS session with one MX host (see <see cref="TlsRequirement"/>).</summary>
internal enum TlsRequirementKind
{
    /// <summary>STARTTLS when offered, any certificate, plaintext otherwise (RFC 7435): no policy, or MTA-STS <c>testing</c>.</summary>
    Opportunistic,

    /// <summary>TLS required, the certificate not checked: DANE TLSA records present but none usable (RFC 7672 section 2.2).</summary>
    EncryptionRequired,

    /// <summary>TLS required and the certificate accepted by <see cref="TlsRequirement.CertificateCheck"/> (MTA-STS <c>enforce</c>, a usable DANE TLSA record).</summary>
    AuthenticationRequired,

    /// <summary>The host must not be tried at all (outside an enforced MTA-STS policy, a TLSA lookup that failed or was bogus): <see cref="TlsRequirement.Failure"/> says why.</summary>
    Unusable,
}
