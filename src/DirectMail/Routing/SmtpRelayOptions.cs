using System.Collections.Generic;
using System.Net.Security;
using DirectMail.Smtp;

namespace DirectMail.Routing;

/// <summary>
/// One relay (smart host, submission server): its hosts, tried in order, the TLS it requires and the credentials it
/// takes. Named in <see cref="Delivery.DirectMailOptions.Relays"/> (<c>DirectMail:Relays:{name}</c>) and chosen by
/// <see cref="DeliveryRouteOptions"/>; bindable from configuration except the code-only callbacks.
/// </summary>
public sealed class SmtpRelayOptions
{
    /// <summary>
    /// The relay's hosts, each <c>host</c> or <c>host:port</c> (<c>[IPv6]:port</c>), tried in order until one takes the
    /// message. The port defaults to 465 with <see cref="SmtpTlsMode.Implicit"/> and 587 with STARTTLS. Required.
    /// </summary>
    public List<string> Hosts { get; set; } = new();

    /// <summary>
    /// <see cref="SmtpTlsMode.Required"/> (default): STARTTLS, required, as on port 587; or <see cref="SmtpTlsMode.Implicit"/>:
    /// TLS from the first octet, as on port 465 (RFC 8314 prefers it). Relays are never used without TLS.
    /// </summary>
    public SmtpTlsMode TlsMode { get; set; } = SmtpTlsMode.Required;

    /// <summary>
    /// Validate the relay's certificate against its host name. Default true, and required with credentials: a relay's
    /// certificate, unlike an MX's, is always meant to be valid.
    /// </summary>
    public bool ValidateCertificate { get; set; } = true;

    /// <summary>Replaces the platform's certificate validation (for example, to pin the relay's key); code only.</summary>
    public RemoteCertificateValidationCallback? CertificateValidationCallback { get; set; }

    /// <summary>The user name for SMTP AUTH; null (default) to send unauthenticated (a relay that trusts this host's address).</summary>
    public string? UserName { get; set; }

    /// <summary>The password for <see cref="UserName"/> (SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN). Either this or <see cref="TokenProvider"/>.</summary>
    public string? Password { get; set; }

    /// <summary>Gives the OAuth 2.0 token for <see cref="UserName"/> (OAUTHBEARER, XOAUTH2), a fresh one when asked to refresh; code only.</summary>
    public SmtpOAuthTokenProvider? TokenProvider { get; set; }

    /// <summary>The SASL mechanism, pinned; null (default) for the strongest both sides offer.</summary>
    public SmtpAuthMechanism? AuthMechanism { get; set; }

    /// <summary>The credentials these settings give, or null for none.</summary>
    internal SmtpCredentials? ToCredentials() => UserName is null ? null
        : TokenProvider is not null ? SmtpCredentials.FromOAuthToken(UserName, TokenProvider)
        : SmtpCredentials.FromPassword(UserName, Password!);

    internal SmtpRelayOptions Copy()
    {
        var copy = (SmtpRelayOptions)MemberwiseClone();
        copy.Hosts = [.. Hosts];
        return copy;
    }
}
