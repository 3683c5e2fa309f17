using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using DirectMail.Dkim;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>
/// Settings of <see cref="DirectMailer"/>, bound from the configuration section <c>DirectMail</c> by
/// <c>services.AddDirectMail()</c>. Each property says why it has its default; <see cref="Validate"/> checks them once.
/// </summary>
public sealed class DirectMailOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "DirectMail";

    /// <summary>
    /// The name given in EHLO: this host's fully qualified domain name (the name its IP's PTR record points to) or an
    /// address literal such as <c>[192.0.2.1]</c>. Receivers check it against reverse DNS; there is no good default.
    /// </summary>
    public string HeloName { get; set; } = string.Empty;

    /// <summary>The SMTP port of MX hosts. Default 25, the only port MX hosts listen on for delivery; change it for tests and labs only.</summary>
    public int Port { get; set; } = 25;

    /// <summary>STARTTLS use. Default <see cref="SmtpTlsMode.Opportunistic"/>, what MTAs do (RFC 7435): encrypt when offered, without requiring a valid certificate.</summary>
    public SmtpTlsMode TlsMode { get; set; } = SmtpTlsMode.Opportunistic;

    /// <summary>Validate MX certificates in <see cref="SmtpTlsMode.Required"/> mode. Default true.</summary>
    public bool ValidateCertificate { get; set; } = true;

    /// <summary>
    /// The recursive name servers to ask, each <c>IP</c> or <c>IP:port</c> (<c>[IPv6]:port</c>). Empty (default) uses the
    /// system's resolvers.
    /// </summary>
    public List<string> NameServers { get; set; } = new();

    /// <summary>
    /// Whether the name servers validate DNSSEC, so that their AD bit is believed and DANE (RFC 7672) can apply. Null
    /// (default): only when every name server is a loopback address (a validating resolver on this host, as Postfix and
    /// mox assume); true: they validate and the path to them is trusted; false: never, DANE off. See
    /// <see cref="MxResolverOptions.ResolverValidatesDnssec"/>.
    /// </summary>
    public bool? ResolverValidatesDnssec { get; set; }

    /// <summary>Which address family of an MX host to try first. Default IPv4 first: many receivers reject IPv6 senders without matching reverse DNS.</summary>
    public AddressFamilyPreference AddressFamilyPreference { get; set; } = AddressFamilyPreference.PreferIPv4;

    /// <summary>The local address to send from, for hosts with several; null (default) lets the system choose.</summary>
    public string? LocalAddress { get; set; }

    /// <summary>
    /// Allow MX targets on loopback, private, link-local, CGNAT, multicast or unspecified addresses. Default false: whoever
    /// controls a recipient domain's DNS could otherwise make this application connect into its own network.
    /// Set it for tests and intranets.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>
    /// The time allowed for each phase of an SMTP session (RFC 5321 section 4.5.3.2), bound from
    /// <c>DirectMail:Timeouts</c> (<c>"Timeouts": { "Command": "00:05:00" }</c>); see <see cref="SmtpTimeouts"/> for the
    /// defaults. The mailer copies them when it is built.
    /// </summary>
    public SmtpTimeouts Timeouts { get; private set; } = new();

    /// <summary>
    /// The most recipients in one transaction. Default 100, the minimum RFC 5321 section 4.5.3.1.8 obliges a server to
    /// accept; more recipients to one domain go as further transactions on the same connection.
    /// </summary>
    public int MaxRecipientsPerTransaction { get; set; } = 100;

    /// <summary>The most MX addresses tried for one domain in one round. Default 5, as Postfix's <c>smtp_mx_address_limit</c>.</summary>
    public int MaxAddressesPerDomain { get; set; } = 5;

    /// <summary>
    /// The most domains at work at once over all SendAsync calls: looking up MX hosts, connecting, or in a mail
    /// transaction. Default 64. A lookup or a connection (connect, greeting, EHLO, STARTTLS) still running after 2 seconds
    /// is slow and stops counting (it goes on, and counts again once connected), so destinations whose MX never answers
    /// cannot hold every slot for the whole <see cref="SendTimeout"/> and make a responsive one wait. Waiting to retry
    /// does not count. A server slow once connected still counts, within the command timeouts.
    /// </summary>
    public int MaxConcurrentDomains { get; set; } = 64;

    /// <summary>
    /// The most connections open to one MX host at once, over all SendAsync calls: a host is its name and address
    /// together (and the session's TLS settings), so MX names of several domains on one address each have their own.
    /// Default 5: receivers throttle or refuse clients that open many (Postfix itself starts at 5 per destination).
    /// </summary>
    public int MaxConnectionsPerHost { get; set; } = 5;

    /// <summary>
    /// How many times a domain whose recipients are still transiently refused is tried again within one SendAsync, after the
    /// MX hosts were all tried. Default 1: a short retry catches brief failures; longer waits (greylisting is minutes)
    /// belong to the caller's queue, which gets the recipients as Deferred.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 1;

    /// <summary>The first retry delay, doubled for each further retry, with jitter. Default 2 seconds.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The overall deadline of one SendAsync call: what is not delivered by then is reported Deferred. Default 10 minutes,
    /// twice the RFC 5321 wait for one reply. A message whose end was already sent still gets the whole
    /// <see cref="SmtpTimeouts.DataTermination"/> for its reply, as the server may have taken it.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long an MX address that answered 421 (service closing) is left alone, over all SendAsync calls. Default 1 minute:
    /// a server that says it is overloaded must not be hammered.
    /// </summary>
    public TimeSpan HostBackoffAfter421 { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an idle connection is kept for reuse. Default 30 seconds: bursts to one domain reuse connections, while
    /// receivers (which drop idle clients after a few minutes) are not held.
    /// </summary>
    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A pooled connection idle longer than this is checked with NOOP before reuse. Default 2 seconds.</summary>
    public TimeSpan PooledConnectionProbeAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the NOOP check of a pooled connection waits for its reply before the connection is dropped and a fresh
    /// one opened. Default 20 seconds, as Postfix's <c>smtp_rset_timeout</c> (the wait for the RSET it sends to check that a
    /// cached session is still usable): a peer that went silent while the connection was idle must not cost the
    /// 5-minute command timeout.
    /// </summary>
    public TimeSpan PooledConnectionProbeTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// DKIM keys (RFC 6376), one entry per domain and selector (several domains, several selectors each). A message is
    /// signed with every key of its From domain, or failing that of its envelope sender's domain; a message from a
    /// domain with no key is sent unsigned, with a warning in the log. Empty (default): nothing is signed.
    /// </summary>
    public List<DkimSignerOptions> Dkim { get; set; } = new();

    /// <summary>
    /// Relays (smart hosts) by name, for the routes that use them (<see cref="Routes"/>): <c>"Relays": { "corp": { "Hosts":
    /// ["smtp.example.net"], "UserName": "app", "Password": "..." } }</c>. Empty (default): every recipient goes direct.
    /// </summary>
    public Dictionary<string, SmtpRelayOptions> Relays { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Which way each destination goes: direct to its MX hosts (default) or through a relay of <see cref="Relays"/>, per
    /// recipient and sender domain, with a fallback relay and a relay for when port 25 is blocked; see <see cref="DeliveryRouteOptions"/>.
    /// </summary>
    public DeliveryRouteOptions Routes { get; private set; } = new();

    /// <summary>
    /// Honour MTA-STS (RFC 8461): a recipient domain's <c>_mta-sts</c> TXT record and HTTPS policy decide which MX hosts
    /// may be used and that their TLS certificate must validate (<c>enforce</c>; nothing is sent otherwise), or are
    /// reported on (<c>testing</c>). Default true, as the RFC intends: Gmail and Microsoft 365 publish <c>enforce</c>.
    /// Policies are cached for their <c>max_age</c>. Set false to deliver with opportunistic TLS only.
    /// </summary>
    public bool UseMtaSts { get; set; } = true;

    /// <summary>
    /// How long one MTA-STS policy fetch may take, connection, TLS handshake, request and body together (RFC 8461 section
    /// 3.3 asks for "a short timeout"). The first delivery to a domain without a cached policy waits for the fetch, so a
    /// policy host that accepts the connection and never answers holds the domain's mail this long; then the fetch has
    /// failed: with no cached policy the domain is delivered to as without MTA-STS (and the failure reported as
    /// <c>sts-policy-fetch-error</c>), a cached unexpired policy keeps applying (RFC 8461 section 5.1). Default 15
    /// seconds; more than 0 and at most 2 minutes.
    /// </summary>
    public TimeSpan MtaStsFetchTimeout { get; set; } = DefaultMtaStsFetchTimeout;

    /// <summary>The default of <see cref="MtaStsFetchTimeout"/>, also what <c>directmail mx --tls</c> allows a fetch.</summary>
    internal static readonly TimeSpan DefaultMtaStsFetchTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The most <see cref="MtaStsFetchTimeout"/> may be: a fetch holds the domain's first delivery.</summary>
    internal static readonly TimeSpan MaxMtaStsFetchTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A PEM file of CA certificates trusted besides the platform's store when MX certificates are validated (MTA-STS) and
    /// when MTA-STS policies are fetched over HTTPS: a lab's or a test's own CA. Null (default): the platform's store only.
    /// </summary>
    public string? TrustAnchorFile { get; set; }

    /// <summary>
    /// Honour DANE (RFC 7672): for an MX host whose MX and address records are DNSSEC-validated, its <c>_25._tcp</c>
    /// TLSA records decide that TLS is required and which certificate or trust anchor it must present; a failed or
    /// bogus TLSA lookup leaves the host untried. DANE comes before MTA-STS for the hosts it covers. Default true, as
    /// the RFC intends; it needs a validating resolver (see <see cref="ResolverValidatesDnssec"/>), and says at start
    /// when it is off for want of one. Set false to turn it off.
    /// </summary>
    public bool UseDane { get; set; } = true;

    /// <summary>
    /// Checks every option and throws <see cref="ArgumentException"/> naming the wrong one, or listing them all when
    /// several are wrong. <c>AddDirectMail</c> runs the same checks at startup.
    /// </summary>
    public void Validate() => Check().ThrowIfAny();

    /// <summary>Runs every rule and returns the failures, each naming its option by configuration key (<c>DirectMail:Port</c>).</summary>
    internal OptionErrors Check()
    {
        var errors = new OptionErrors(SectionName);

        // The EHLO name, the TLS mode and the SMTP timeouts follow the session's own rules.
        if (string.IsNullOrWhiteSpace(HeloName))
        {
            errors.Add(nameof(HeloName), $"{errors.Name(nameof(HeloName))} is required: this host's fully qualified domain name (what its IP's PTR record says) or an address literal such as [192.0.2.1].");
        }
        else if (SmtpSessionOptions.HeloNameError(HeloName) is { } helo)
        {
            errors.Add(nameof(HeloName), $"{errors.Name(nameof(HeloName))}: {helo}");
        }
        else if (HeloName[0] != '[' && HeloName.TrimEnd('.').IndexOf('.', StringComparison.Ordinal) < 0)
        {
            errors.Add(nameof(HeloName), $"{errors.Name(nameof(HeloName))} '{HeloName}' is not fully qualified; receivers reject EHLO names without a domain. Use the host's full name (mail.example.com) or an address literal.");
        }

        if (SmtpSessionOptions.TlsModeError(TlsMode) is { } tls)
        {
            errors.Add(nameof(TlsMode), $"{errors.Name(nameof(TlsMode))} {tls}");
        }

        if (LocalAddress is not null && !IPAddress.TryParse(LocalAddress, out _))
        {
            errors.Add(nameof(LocalAddress), $"{errors.Name(nameof(LocalAddress))} '{LocalAddress}' is not an IP address.");
        }

        if (Port is < 1 or > 65535)
        {
            errors.Add(nameof(Port), string.Create(CultureInfo.InvariantCulture, $"{errors.Name(nameof(Port))} must be 1 to 65535; it is {Port}."));
        }

        foreach (var server in NameServers)
        {
            if (!MxResolverOptions.TryParseNameServer(server, out _))
            {
                errors.Add(nameof(NameServers), NameServerError(server));
            }
        }

        Timeouts.Validate(errors, nameof(Timeouts));
        Positive(errors, SendTimeout, nameof(SendTimeout));
        Positive(errors, PooledConnectionIdleTimeout, nameof(PooledConnectionIdleTimeout));
        Positive(errors, PooledConnectionProbeTimeout, nameof(PooledConnectionProbeTimeout));
        Range(errors, MaxRecipientsPerTransaction, 1, 10_000, nameof(MaxRecipientsPerTransaction));
        Range(errors, MaxAddressesPerDomain, 1, 100, nameof(MaxAddressesPerDomain));
        Range(errors, MaxConcurrentDomains, 1, 10_000, nameof(MaxConcurrentDomains));
        Range(errors, MaxConnectionsPerHost, 1, 1_000, nameof(MaxConnectionsPerHost));
        Range(errors, MaxRetryAttempts, 0, 100, nameof(MaxRetryAttempts));
        NotNegative(errors, RetryBaseDelay, nameof(RetryBaseDelay));
        NotNegative(errors, HostBackoffAfter421, nameof(HostBackoffAfter421));
        NotNegative(errors, PooledConnectionProbeAfter, nameof(PooledConnectionProbeAfter));
        if (MtaStsFetchTimeout <= TimeSpan.Zero || MtaStsFetchTimeout > MaxMtaStsFetchTimeout)
        {
            errors.Add(nameof(MtaStsFetchTimeout), string.Create(CultureInfo.InvariantCulture, $"{errors.Name(nameof(MtaStsFetchTimeout))} must be more than 0 and at most {MaxMtaStsFetchTimeout} (RFC 8461 section 3.3 asks for a short timeout; the first delivery to a domain waits for the fetch); it is {MtaStsFetchTimeout}."));
        }

        CheckRelays(errors);
        if (Verp.Error() is { } verp)
        {
            errors.Add(nameof(Verp), $"{errors.Name(nameof(Verp))}: {verp}");
        }

        if (!string.IsNullOrEmpty(TrustAnchorFile) && !System.IO.File.Exists(TrustAnchorFile))
        {
            errors.Add(nameof(TrustAnchorFile), $"{errors.Name(nameof(TrustAnchorFile))} '{TrustAnchorFile}' does not exist.");
        }

        // DKIM: each key is read and checked by its own rules (DkimSignerOptions.Validate), which throw.
        foreach (var key in Dkim)
        {
            if (key is null)
            {
                errors.Add(nameof(Dkim), $"{errors.Name(nameof(Dkim))} holds an empty entry.");
                continue;
            }

            try
            {
                key.Validate();
            }
            catch (ArgumentException e)
            {
                errors.Add(e);
            }
        }

        return errors;
    }

    /// <summary>
    /// A copy for the mailer to keep, so that later changes by the caller do not reach it: the timeouts and the lists are
    /// copied too (the DKIM keys are read when the mailer is built).
    /// </summary>
    internal DirectMailOptions Copy()
    {
        var copy = (DirectMailOptions)MemberwiseClone();
        copy.Timeouts = Timeouts.Copy();
        copy.NameServers = [.. NameServers];
        copy.Dkim = [.. Dkim];
        copy.Routes = Routes.Copy();
        copy.Verp = Verp.Copy();
        copy.Relays = new Dictionary<string, SmtpRelayOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, relay) in Relays)
        {
            copy.Relays[name] = relay?.Copy()!;
        }

        return copy;
    }

    /// <summary>The session settings of this mailer's connections; <paramref name="plaintext"/> for the retry without TLS.</summary>
    internal SmtpSessionOptions ToSessionOptions(bool plaintext) => new()
    {
        HeloName = HeloName,
        TlsMode = plaintext ? SmtpTlsMode.None : TlsMode,
        ValidateCertificate = ValidateCertificate,
        LocalEndPoint = LocalAddress is null ? null : new IPEndPoint(IPAddress.Parse(LocalAddress), 0),
        Timeouts = Timeouts,
    };

    /// <summary>The relays, ready for delivery, by name (case-insensitive).</summary>
    internal Dictionary<string, RelayTarget> ToRelayTargets()
    {
        var baseOptions = ToSessionOptions(plaintext: false);
        var targets = new Dictionary<string, RelayTarget>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, relay) in Relays)
        {
            targets[name] = new RelayTarget(name, relay, baseOptions);
        }

        return targets;
    }

    /// <summary>The relays' and the routes' rules: every relay usable, every route naming Direct or a relay.</summary>
    private void CheckRelays(OptionErrors errors)
    {
        foreach (var (name, relay) in Relays)
        {
            var path = nameof(Relays) + "." + name;
            if (relay is null)
            {
                errors.Add(path, $"{errors.Name(path)} is empty.");
                continue;
            }

            if (relay.Hosts.Count == 0)
            {
                errors.Add(path + ".Hosts", $"{errors.Name(path + ".Hosts")} is required: the relay's host names, each host or host:port.");
            }

            foreach (var host in relay.Hosts)
            {
                if (RelayTarget.ParseHost(host, 587) is null)
                {
                    errors.Add(path + ".Hosts", $"{errors.Name(path + ".Hosts")} entry '{host}' is not host or host:port.");
                }
            }

            if (relay.TlsMode is not (SmtpTlsMode.Required or SmtpTlsMode.Implicit))
            {
                errors.Add(path + ".TlsMode", $"{errors.Name(path + ".TlsMode")} must be Required (STARTTLS, port 587) or Implicit (port 465); it is {relay.TlsMode}. Relays are never used without TLS.");
            }

            if (relay.UserName is null)
            {
                if (relay.Password is not null || relay.TokenProvider is not null || relay.AuthMechanism is not null)
                {
                    errors.Add(path + ".UserName", $"{errors.Name(path + ".UserName")} is required with a password, a token provider or an AUTH mechanism.");
                }
            }
            else if (string.IsNullOrEmpty(relay.UserName) || (string.IsNullOrEmpty(relay.Password) == (relay.TokenProvider is null)))
            {
                errors.Add(path + ".Password", $"{errors.Name(path)} needs a user name and exactly one of Password and TokenProvider.");
            }
            else if (relay.TlsMode is SmtpTlsMode.Required or SmtpTlsMode.Implicit
                && SmtpSessionOptions.CredentialsError(relay.ToCredentials(), relay.AuthMechanism, relay.TlsMode, relay.ValidateCertificate || relay.CertificateValidationCallback is not null) is { } credentials)
            {
                errors.Add(path + ".AuthMechanism", $"{errors.Name(path)}: {credentials}");
            }
        }

        var routes = Routes;
        var prefix = nameof(Routes) + ".";
        CheckRoute(errors, prefix + nameof(DeliveryRouteOptions.Default), routes.Default, directAllowed: true);
        foreach (var (domain, route) in routes.Domains)
        {
            CheckRoute(errors, prefix + nameof(DeliveryRouteOptions.Domains) + "." + domain, route, directAllowed: true);
        }

        foreach (var (domain, route) in routes.SenderDomains)
        {
            CheckRoute(errors, prefix + nameof(DeliveryRouteOptions.SenderDomains) + "." + domain, route, directAllowed: true);
        }

        if (routes.FallbackRelay is { } fallback)
        {
            CheckRoute(errors, prefix + nameof(DeliveryRouteOptions.FallbackRelay), fallback, directAllowed: false);
        }

        if (routes.PortBlockedRelay is { } blocked)
        {
            CheckRoute(errors, prefix + nameof(DeliveryRouteOptions.PortBlockedRelay), blocked, directAllowed: false);
        }

        Positive(errors, routes.PortBlockedRelayDuration, prefix + nameof(DeliveryRouteOptions.PortBlockedRelayDuration));
    }

    private void CheckRoute(OptionErrors errors, string path, string? route, bool directAllowed)
    {
        if (route is not null && Relays.ContainsKey(route))
        {
            return;
        }

        if (directAllowed && string.Equals(route, DeliveryRouteOptions.Direct, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var known = Relays.Count == 0 ? "no relay is configured in DirectMail:Relays" : "the relays are " + string.Join(", ", Relays.Keys);
        errors.Add(path, $"{errors.Name(path)} '{route}' is {(directAllowed ? "neither Direct nor a relay" : "not a relay")}: {known}.");
    }

    internal MxResolverOptions ToResolverOptions()
    {
        var servers = new List<IPEndPoint>(NameServers.Count);
        foreach (var server in NameServers)
        {
            servers.Add(ParseNameServer(server));
        }

        return new MxResolverOptions
        {
            NameServers = servers,
            AddressFamilyPreference = AddressFamilyPreference,
            ResolverValidatesDnssec = ResolverValidatesDnssec,

            // The address budget (MaxAddressesPerDomain) is spent by the mailer on the addresses it may connect to, after
            // non-public ones are dropped (DomainDelivery.ChooseCandidates): a resolver cut at five would let five
            // private addresses of the first MX push a usable backup out of the list. So the resolver hands over every
            // address of its (at most MaxMxHosts) hosts, up to a bound on the work.
            MaxAddresses = AllowPrivateTargets ? Math.Max(MaxAddressesPerDomain, 5) : ResolverAddressLimit,
        };
    }

    /// <summary>The most addresses asked of the resolver when non-public ones are filtered out before the budget.</summary>
    internal const int ResolverAddressLimit = 100;

    internal static IPEndPoint ParseNameServer(string value) =>
        MxResolverOptions.TryParseNameServer(value, out var endPoint) ? endPoint : throw new ArgumentException(NameServerError(value), nameof(NameServers));

    private static string NameServerError(string value) => $"DirectMail:NameServers entry '{value}' is not IP or IP:port.";

    private static void Positive(OptionErrors errors, TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero && value != System.Threading.Timeout.InfiniteTimeSpan)
        {
            errors.Add(name, string.Create(CultureInfo.InvariantCulture, $"{errors.Name(name)} must be positive; it is {value}."));
        }
    }

    private static void NotNegative(OptionErrors errors, TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add(name, string.Create(CultureInfo.InvariantCulture, $"{errors.Name(name)} must not be negative; it is {value}."));
        }
    }

    private static void Range(OptionErrors errors, int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            errors.Add(name, string.Create(CultureInfo.InvariantCulture, $"{errors.Name(name)} must be {min} to {max}; it is {value}."));
        }
    }

    /// <summary>
    /// Add to the mailer's suppression list (<see cref="DirectMailer.SuppressionStore"/>) the recipients a server refuses permanently as invalid during a send (a 5xx
    /// reply to RCPT or after the data whose code or text says the mailbox does not exist or is disabled, or the domain
    /// does not: <c>550 5.1.1 User unknown</c>). Default false: only bounces that come back (<see cref="Suppression.BounceIngester"/>)
    /// and operators fill the list.
    /// </summary>
    public bool SuppressRefusedRecipients { get; set; }

    /// <summary>
    /// Variable envelope return paths: with <c>DirectMail:Verp:BounceDomain</c> set, each recipient is sent in a
    /// transaction of its own whose MAIL FROM encodes it and the message (see <see cref="Dsn.VerpOptions"/>). Off by default.
    /// </summary>
    public Dsn.VerpOptions Verp { get; private set; } = new();
}
