using System;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;

namespace DirectMail.Smtp;

/// <summary>
/// Settings of one SMTP session. Defaults follow RFC 5321; each property says why it has its default.
/// </summary>
public sealed class SmtpSessionOptions
{
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

    /// <summary>The time allowed for each phase of the session (RFC 5321 section 4.5.3.2); see <see cref="SmtpTimeouts"/> for the defaults.</summary>
    public SmtpTimeouts Timeouts { get; internal init; } = new();

    /// <summary>
    /// The longest reply line accepted, CRLF included. Default 4096: RFC 5321 section 4.5.3.1.5 allows 512, real
    /// servers send somewhat longer ones, and a longer line is a broken or hostile server.
    /// </summary>
    public int MaxReplyLineLength { get; set; } = 4096;

    /// <summary>The most lines one reply may have. Default 256: an EHLO reply has a few dozen at most.</summary>
    public int MaxReplyLines { get; set; } = 256;

    /// <summary>The most octets one reply may have, all lines together. Default 64 KiB.</summary>
    public int MaxReplyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Authenticate with SMTP AUTH (RFC 4954) after EHLO and TLS; null (default) for none, as MX hosts take mail
    /// unauthenticated. Credentials need <see cref="TlsMode"/> <see cref="SmtpTlsMode.Required"/> or
    /// <see cref="SmtpTlsMode.Implicit"/> with the certificate validated: they are never sent otherwise, and a session
    /// that cannot authenticate fails (<see cref="SmtpFailureKind.AuthenticationUnavailable"/>) rather than send unauthenticated.
    /// </summary>
    public SmtpCredentials? Credentials { get; set; }

    /// <summary>The SASL mechanism to use, pinned; null (default) for the strongest one both sides offer (see <see cref="SmtpAuthMechanism"/>).</summary>
    public SmtpAuthMechanism? AuthMechanism { get; set; }

    /// <summary>Write the content of messages to the Trace transcript as well. Default false: content is private.</summary>
    public bool LogContent { get; set; }

    /// <summary>
    /// True for the sessions of a configured relay (<see cref="Routing.RelayTarget"/>): the host name is configuration,
    /// not an MX record, so TLS whose certificate is validated against it authenticates the next hop as DANE or
    /// MTA-STS authenticate an MX host, and a REQUIRETLS message (RFC 8689 section 4.2) may go to it when it offers
    /// REQUIRETLS. Set only by the relay's own session options; sessions made from public options never have it.
    /// </summary>
    internal bool IsConfiguredRelay { get; init; }

    /// <summary>
    /// Checks every setting and throws <see cref="ArgumentException"/> naming the wrong one, or listing them all when
    /// several are wrong.
    /// </summary>
    public void Validate()
    {
        var errors = new OptionErrors();
        if (HeloNameError(HeloName) is { } helo)
        {
            errors.Add(nameof(HeloName), helo);
        }

        if (TlsModeError(TlsMode) is { } tls)
        {
            errors.Add(nameof(TlsMode), $"{nameof(TlsMode)} {tls}");
        }

        if (CredentialsError(Credentials, AuthMechanism, TlsMode, ValidateCertificate || CertificateValidationCallback is not null) is { } credentials)
        {
            errors.Add(nameof(Credentials), credentials);
        }

        Timeouts.Validate(errors, nameof(Timeouts));
        if (MaxReplyLineLength < 512)
        {
            errors.Add(nameof(MaxReplyLineLength), $"{nameof(MaxReplyLineLength)} must be at least 512 (RFC 5321 section 4.5.3.1.5); it is {MaxReplyLineLength}.");
        }

        if (MaxReplyLines < 1)
        {
            errors.Add(nameof(MaxReplyLines), $"{nameof(MaxReplyLines)} must be at least 1; it is {MaxReplyLines}.");
        }

        if (MaxReplyBytes < MaxReplyLineLength)
        {
            errors.Add(nameof(MaxReplyBytes), $"{nameof(MaxReplyBytes)} must be at least {nameof(MaxReplyLineLength)}; it is {MaxReplyBytes}.");
        }

        errors.ThrowIfAny();
    }

    /// <summary>The EHLO name's failure, or null when it is a domain name or an address literal.</summary>
    /// <remarks>
    /// The grammar is the one every EHLO is checked with (<see cref="SmtpSyntax.ValidateHeloName"/>), which throws;
    /// without a parameter name its message is the bare reason.
    /// </remarks>
    internal static string? HeloNameError(string? name)
    {
        try
        {
            SmtpSyntax.ValidateHeloName(name, string.Empty);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>Why credentials cannot be used with these settings, or null when they can (or there are none).</summary>
    internal static string? CredentialsError(SmtpCredentials? credentials, SmtpAuthMechanism? mechanism, SmtpTlsMode tlsMode, bool validatesCertificate)
    {
        if (credentials is null)
        {
            return mechanism is null ? null : "An AUTH mechanism is pinned but no credentials are set.";
        }

        if (tlsMode is not (SmtpTlsMode.Required or SmtpTlsMode.Implicit) || !validatesCertificate)
        {
            return "Credentials are only sent over TLS whose certificate is validated: the TLS mode must be Required or Implicit, with certificate validation on.";
        }

        if (mechanism is { } pinned && (pinned is SmtpAuthMechanism.XOAuth2 or SmtpAuthMechanism.OAuthBearer) != credentials.IsOAuth)
        {
            return credentials.IsOAuth ? $"The pinned AUTH mechanism {pinned} needs a password, and the credentials hold an OAuth token provider." : $"The pinned AUTH mechanism {pinned} needs an OAuth token provider, and the credentials hold a password.";
        }

        return mechanism is null || Enum.IsDefined(mechanism.Value) ? null : $"The AUTH mechanism {mechanism} is not a defined mechanism.";
    }

    /// <summary>The TLS mode's failure, or null when it is a defined mode.</summary>
    internal static string? TlsModeError(SmtpTlsMode mode) => Enum.IsDefined(mode) ? null : $"{mode} is not a defined mode.";
}
