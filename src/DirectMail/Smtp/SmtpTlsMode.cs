namespace DirectMail.Smtp;

/// <summary>How a session uses STARTTLS (RFC 3207).</summary>
public enum SmtpTlsMode
{
    /// <summary>
    /// Upgrade to TLS when the server offers STARTTLS, without requiring its certificate to validate, as MTAs do
    /// between each other (RFC 7435); stay in plaintext when it is not offered.
    /// </summary>
    Opportunistic = 0,

    /// <summary>Fail unless the server offers STARTTLS and the handshake succeeds; the certificate is validated against the server name.</summary>
    Required = 1,

    /// <summary>Never use TLS.</summary>
    None = 2,

    /// <summary>
    /// TLS from the first octet, before the greeting (RFC 8314 "implicit TLS", port 465 for submission); the
    /// certificate is validated against the server name as in <see cref="Required"/>.
    /// </summary>
    Implicit = 3,
}
