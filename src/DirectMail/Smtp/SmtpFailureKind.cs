namespace DirectMail.Smtp;

/// <summary>What went wrong, when it was not simply a server's negative reply to a command.</summary>
public enum SmtpFailureKind
{
    /// <summary>The server gave a negative reply; see <see cref="SmtpFailure.Reply"/>.</summary>
    Rejected,

    /// <summary>The TCP connection was refused or could not be made (no route, host unreachable).</summary>
    ConnectFailed,

    /// <summary>The step took longer than its timeout; the connection was closed.</summary>
    TimedOut,

    /// <summary>The server closed the connection, or it broke (reset, I/O error).</summary>
    ConnectionLost,

    /// <summary>The server sent something that is not an SMTP reply, or broke a limit on reply size; see <see cref="SmtpFailure.ProtocolViolation"/>.</summary>
    ProtocolViolation,

    /// <summary>TLS was required and the server did not offer STARTTLS, or refused it.</summary>
    TlsUnavailable,

    /// <summary>The TLS handshake failed, or the certificate was not accepted.</summary>
    TlsHandshakeFailed,

    /// <summary>The message needs something the server does not offer (8BITMIME, SMTPUTF8) or is larger than its SIZE limit; nothing was sent.</summary>
    NotSupportedByServer,

    /// <summary>The content broke a rule of the wire format while it was being sent (a line over 998 octets, 8-bit octets in content declared 7-bit); the transaction was abandoned so the server discards it.</summary>
    InvalidContent,

    /// <summary>The content could not be produced (the source stream threw); the transaction was abandoned.</summary>
    ContentSourceFailed,

    /// <summary>
    /// The server refused the credentials with a 5xx reply to AUTH (<c>535 5.7.8</c>: wrong user name or password, or
    /// an expired token that a refresh did not cure): retrying will not help until the credentials are fixed.
    /// </summary>
    CredentialsRejected,

    /// <summary>The server could not authenticate now (<c>454 4.7.0</c> and other 4xx replies to AUTH): a later attempt may succeed.</summary>
    AuthenticationDeferred,

    /// <summary>
    /// Credentials are configured but were not sent: the connection is not protected by TLS with a validated
    /// certificate, the server offers no AUTH or no mechanism in common (or not the pinned one), or the token
    /// provider gave no token. Nothing is ever sent unauthenticated instead.
    /// </summary>
    AuthenticationUnavailable,
}
