using System;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;

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
}

/// <summary>
/// Settings of one SMTP session. Defaults follow RFC 5321; each property says why it has its default.
/// </summary>
public sealed class SmtpSessionOptions
{
    internal static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultGreetingTimeout = TimeSpan.FromMinutes(5);
    internal static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromMinutes(5);
    internal static readonly TimeSpan DefaultMailFromTimeout = TimeSpan.FromMinutes(5);
    internal static readonly TimeSpan DefaultRcptToTimeout = TimeSpan.FromMinutes(5);
    internal static readonly TimeSpan DefaultDataInitiationTimeout = TimeSpan.FromMinutes(2);
    internal static readonly TimeSpan DefaultDataBlockTimeout = TimeSpan.FromMinutes(3);
    internal static readonly TimeSpan DefaultDataTerminationTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The name the client gives in EHLO/HELO: a fully qualified domain name or an address literal such as
    /// <c>[192.0.2.1]</c>. Receivers compare it with the sending IP's reverse DNS, so use the host's real name.
    /// </summary>
    public string HeloName { get; set; } = string.Empty;

    /// <summary>How STARTTLS is used. Default <see cref="SmtpTlsMode.Opportunistic"/>, what MTAs do on port 25.</summary>
    public SmtpTlsMode TlsMode { get; set; } = SmtpTlsMode.Opportunistic;

    /// <summary>
    /// In <see cref="SmtpTlsMode.Required"/> mode, validate the certificate against the server name (default true).
    /// Set false to require encryption without authentication (self-signed receivers).
    /// </summary>
    public bool ValidateCertificate { get; set; } = true;

    /// <summary>Overrides certificate validation in <see cref="SmtpTlsMode.Required"/> mode (for example, to pin a key); null for the platform's.</summary>
    public RemoteCertificateValidationCallback? CertificateValidationCallback { get; set; }

    /// <summary>The TLS versions allowed; <see cref="SslProtocols.None"/> (default) lets the operating system choose.</summary>
    public SslProtocols SslProtocols { get; set; } = SslProtocols.None;

    /// <summary>The local address (and optionally port) to connect from, for hosts with several addresses; null for the system's choice.</summary>
    public IPEndPoint? LocalEndPoint { get; set; }

    /// <summary>Use PIPELINING (RFC 2920) when offered: MAIL, every RCPT and DATA in one write. Default true.</summary>
    public bool UsePipelining { get; set; } = true;

    /// <summary>
    /// Use BDAT (RFC 3030) instead of DATA when the server offers CHUNKING. Default true: content then needs no dot
    /// transparency, so no byte sequence in it can be read as the end of data (SMTP smuggling), the DATA/354 round
    /// trip disappears when PIPELINING is not offered, and each 64 KiB chunk is one write.
    /// </summary>
    public bool UseChunking { get; set; } = true;

    /// <summary>Time allowed to establish the TCP connection. Default 30 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    /// <summary>Time allowed for the 220 greeting. Default 5 minutes (RFC 5321 section 4.5.3.2.1).</summary>
    public TimeSpan GreetingTimeout { get; set; } = DefaultGreetingTimeout;

    /// <summary>Time allowed for replies to EHLO, HELO, STARTTLS, RSET, NOOP and QUIT, and for the TLS handshake. Default 5 minutes, as for MAIL.</summary>
    public TimeSpan CommandTimeout { get; set; } = DefaultCommandTimeout;

    /// <summary>Time allowed for the reply to MAIL. Default 5 minutes (RFC 5321 section 4.5.3.2.2).</summary>
    public TimeSpan MailFromTimeout { get; set; } = DefaultMailFromTimeout;

    /// <summary>Time allowed for the reply to each RCPT. Default 5 minutes (RFC 5321 section 4.5.3.2.3).</summary>
    public TimeSpan RcptToTimeout { get; set; } = DefaultRcptToTimeout;

    /// <summary>Time allowed for the 354 reply to DATA. Default 2 minutes (RFC 5321 section 4.5.3.2.4).</summary>
    public TimeSpan DataInitiationTimeout { get; set; } = DefaultDataInitiationTimeout;

    /// <summary>Time allowed for each write of content to complete. Default 3 minutes (RFC 5321 section 4.5.3.2.5).</summary>
    public TimeSpan DataBlockTimeout { get; set; } = DefaultDataBlockTimeout;

    /// <summary>
    /// Time allowed for the reply after the final dot or the last BDAT. Default 10 minutes (RFC 5321 section 4.5.3.2.6).
    /// This wait is whole whatever time the call spent before: neither the cancellation token nor the mailer's
    /// SendTimeout cuts it, as the server may have taken the message by then.
    /// </summary>
    public TimeSpan DataTerminationTimeout { get; set; } = DefaultDataTerminationTimeout;

    /// <summary>
    /// The longest reply line accepted, CRLF included. Default 4096: RFC 5321 section 4.5.3.1.5 allows 512, real
    /// servers send somewhat longer ones, and a longer line is a broken or hostile server.
    /// </summary>
    public int MaxReplyLineLength { get; set; } = 4096;

    /// <summary>The most lines one reply may have. Default 256: an EHLO reply has a few dozen at most.</summary>
    public int MaxReplyLines { get; set; } = 256;

    /// <summary>The most octets one reply may have, all lines together. Default 64 KiB.</summary>
    public int MaxReplyBytes { get; set; } = 64 * 1024;

    /// <summary>Write the content of messages to the Trace transcript as well. Default false: content is private.</summary>
    public bool LogContent { get; set; }

    /// <summary>Checks every setting and throws <see cref="ArgumentException"/> naming the first one that is wrong.</summary>
    public void Validate()
    {
        SmtpSyntax.ValidateHeloName(HeloName, nameof(HeloName));
        if (!Enum.IsDefined(TlsMode))
        {
            throw new ArgumentException($"{nameof(TlsMode)} {TlsMode} is not a defined mode.", nameof(TlsMode));
        }

        RequirePositive(ConnectTimeout, nameof(ConnectTimeout));
        RequirePositive(GreetingTimeout, nameof(GreetingTimeout));
        RequirePositive(CommandTimeout, nameof(CommandTimeout));
        RequirePositive(MailFromTimeout, nameof(MailFromTimeout));
        RequirePositive(RcptToTimeout, nameof(RcptToTimeout));
        RequirePositive(DataInitiationTimeout, nameof(DataInitiationTimeout));
        RequirePositive(DataBlockTimeout, nameof(DataBlockTimeout));
        RequirePositive(DataTerminationTimeout, nameof(DataTerminationTimeout));
        if (MaxReplyLineLength < 512)
        {
            throw new ArgumentException($"{nameof(MaxReplyLineLength)} must be at least 512 (RFC 5321 section 4.5.3.1.5); it is {MaxReplyLineLength}.", nameof(MaxReplyLineLength));
        }

        if (MaxReplyLines < 1)
        {
            throw new ArgumentException($"{nameof(MaxReplyLines)} must be at least 1; it is {MaxReplyLines}.", nameof(MaxReplyLines));
        }

        if (MaxReplyBytes < MaxReplyLineLength)
        {
            throw new ArgumentException($"{nameof(MaxReplyBytes)} must be at least {nameof(MaxReplyLineLength)}; it is {MaxReplyBytes}.", nameof(MaxReplyBytes));
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero && value != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{name} must be positive (or Timeout.InfiniteTimeSpan); it is {value}.", name);
        }
    }
}
