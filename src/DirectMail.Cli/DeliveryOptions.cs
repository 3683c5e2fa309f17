using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Smtp;

namespace DirectMail.Cli;

/// <summary>
/// The options that say how mail is delivered (--helo, --dns, --port, --tls, --allow-private-targets, -4/-6,
/// --local-address, --timeout, --retries, and the relay:
/// --relay, --relay-tls, --relay-certificate, --auth-*, --route), shared by the commands that deliver (send, queue run):
/// one instance per command, made into the mailer's <see cref="DirectMailOptions"/>.
/// </summary>
internal sealed class DeliveryOptions
{
    public DeliveryOptions()
    {
        Tls.AcceptOnlyFromAmong("opportunistic", "required", "none");
        Options.AddRange(Port, port => port is >= 1 and <= 65535, "--port must be 1 to 65535.");
        Options.AddRange(Retries, n => n is >= 0 and <= 100, "--retries must be 0 to 100.");
        RelayTls.AcceptOnlyFromAmong("implicit", "starttls");
        Route.AcceptOnlyFromAmong("always", "fallback", "auto");
        AuthMechanism.AcceptOnlyFromAmong("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER");
    }

    /// <summary>The name of the relay the command line configures, in <see cref="DirectMailOptions.Relays"/>.</summary>
    public const string RelayName = "cli";

    public Option<string[]> Relay { get; } = new("--relay") { Description = "Send through this relay (smart host, submission server), HOST or HOST:PORT (default port 465 with implicit TLS, 587 with STARTTLS); repeat for backups, tried in order.", HelpName = "HOST[:PORT]" };

    public Option<string> RelayTls { get; } = new("--relay-tls") { Description = "TLS to the relay: implicit (TLS from the start, port 465) or starttls (required, port 587). Default: implicit for port 465, else starttls. The relay's certificate is always validated.", HelpName = "MODE" };

    public Option<FileInfo> RelayCertificate { get; } = new("--relay-certificate") { Description = "Trust only this certificate (PEM or DER) for the relay instead of the system's authorities: a private relay with its own certificate.", HelpName = "FILE" };

    public Option<string> AuthUser { get; } = new("--auth-user") { Description = "Authenticate to the relay (SMTP AUTH) as this user; needs --auth-password-file or --auth-token-file.", HelpName = "USER" };

    public Option<FileInfo> AuthPasswordFile { get; } = new("--auth-password-file") { Description = "The relay password, read from this file (its first line): never on the command line, where other users see it.", HelpName = "FILE" };

    public Option<FileInfo> AuthTokenFile { get; } = new("--auth-token-file") { Description = "An OAuth 2.0 access token for the relay (XOAUTH2, OAUTHBEARER), read from this file; read again when the relay refuses it as expired.", HelpName = "FILE" };

    public Option<string> AuthMechanism { get; } = new("--auth-mechanism") { Description = "Pin the SASL mechanism: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER (default: the strongest both sides offer).", HelpName = "M" };

    public Option<string> Route { get; } = new("--route") { Description = "When the relay is used: always (default), fallback (what the MX hosts leave transiently refused, or none answers) or auto (when every connection to port 25 times out).", HelpName = "WHEN" };

    /// <summary>The relay options, in the order help lists them.</summary>
    public IEnumerable<Option> RelayOptions => [Relay, RelayTls, RelayCertificate, AuthUser, AuthPasswordFile, AuthTokenFile, AuthMechanism, Route];

    /// <summary>Checks that the relay options go together; each problem is one error.</summary>
    private void ValidateRelay(System.CommandLine.Parsing.CommandResult result)
    {
        var relay = result.GetValue(Relay) is { Length: > 0 };
        if (!relay)
        {
            foreach (var option in (Option[])[RelayTls, RelayCertificate, AuthUser, AuthPasswordFile, AuthTokenFile, AuthMechanism, Route])
            {
                if (result.GetResult(option) is not null)
                {
                    result.AddError($"{option.Name} applies to a relay: it needs --relay.");
                }
            }

            return;
        }

        var user = result.GetValue(AuthUser) is not null;
        var password = result.GetValue(AuthPasswordFile) is not null;
        var token = result.GetValue(AuthTokenFile) is not null;
        if (password && token)
        {
            result.AddError("--auth-password-file and --auth-token-file are two kinds of secret: use one.");
        }
        else if (user != (password || token))
        {
            result.AddError("--auth-user goes with --auth-password-file or --auth-token-file: the user name and its secret.");
        }

        if (result.GetValue(AuthMechanism) is not null && !user)
        {
            result.AddError("--auth-mechanism needs --auth-user and its secret.");
        }
    }

    public Option<string> Helo { get; } = new("--helo") { Description = "The name given in EHLO: this host's fully qualified name, as its IP's PTR record says (default: the machine's name when it has a domain).", HelpName = "NAME" };

    public Option<IPEndPoint?> Dns { get; } = Options.Dns();

    public Option<int> Port { get; } = new("--port") { Description = "The SMTP port of the MX hosts (tests and labs only: MX hosts receive mail on 25).", DefaultValueFactory = _ => 25, HelpName = "N" };

    public Option<string> Tls { get; } = new("--tls") { Description = "STARTTLS: opportunistic (encrypt when offered, as MTAs do), required (fail without a valid certificate) or none.", DefaultValueFactory = _ => "opportunistic" };

    public Option<bool> AllowPrivate { get; } = new("--allow-private-targets") { Description = "Allow MX targets on loopback and private addresses (tests and intranets)." };

    public Option<bool> IPv4 { get; } = new("--ipv4", "-4") { Description = "Connect over IPv4 only (AAAA records are not asked for)." };

    public Option<bool> IPv6 { get; } = new("--ipv6", "-6") { Description = "Connect over IPv6 only (A records are not asked for)." };

    public Option<string> LocalAddress { get; } = new("--local-address") { Description = "Send from this local IP address (a host with several; the one the SPF record and PTR name are for).", HelpName = "IP" };

    public Option<TimeSpan?> Timeout { get; } = Durations.Option("--timeout", "The longest wait for each step of an SMTP conversation: the connection, every reply, the TLS handshake and the reply after the message (default: RFC 5321's, 30s to connect and 2 to 10 minutes per reply), for example 30s or 2m. A whole send still ends after 10 minutes (or twice --timeout, if longer): what is not delivered by then is deferred.");

    public Option<int> Retries { get; } = new("--retries") { Description = "How many more times a domain whose recipients are transiently refused (4xx, no answer) is tried before the command ends, after 2, 4, 8... seconds (at most 100; 0: one try only).", DefaultValueFactory = _ => 1, HelpName = "N" };

    public Option<FileInfo> CaFile { get; } = Options.CaFile();

    public Option<bool> NoMtaSts { get; } = Options.NoMtaSts();

    /// <summary>The options, in the order help lists them.</summary>
    public IEnumerable<Option> All => [Helo, Dns, Port, Tls, AllowPrivate, IPv4, IPv6, LocalAddress, Timeout, Retries, CaFile, NoMtaSts];

    /// <summary>
    /// Adds every delivery option (those of <see cref="All"/>, then the relay's) to <paramref name="command"/>, with the
    /// checks that they go together: the one definition that <c>send</c> and <c>queue run</c> share.
    /// </summary>
    public void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }

        foreach (var option in RelayOptions)
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(IPv4) && result.GetValue(IPv6))
            {
                result.AddError("-4 and -6 each allow one address family only: use one.");
            }

            ValidateRelay(result);
        });
    }

    /// <summary>The mailer's options from the command line, checked: a wrong value is one line and exit code 65.</summary>
    public DirectMailOptions Create(ParseResult parse)
    {
        var options = new DirectMailOptions
        {
            HeloName = parse.GetValue(Helo) ?? DefaultHeloName(),
            Port = parse.GetValue(Port),
            TlsMode = parse.GetValue(Tls) switch
            {
                "required" => SmtpTlsMode.Required,
                "none" => SmtpTlsMode.None,
                _ => SmtpTlsMode.Opportunistic,
            },
            AllowPrivateTargets = parse.GetValue(AllowPrivate),
            AddressFamilyPreference = parse.GetValue(IPv4) ? AddressFamilyPreference.IPv4Only
                : parse.GetValue(IPv6) ? AddressFamilyPreference.IPv6Only
                : AddressFamilyPreference.PreferIPv4,
            LocalAddress = parse.GetValue(LocalAddress),
            MaxRetryAttempts = parse.GetValue(Retries),
        };
        if (parse.GetValue(Timeout) is { } timeout)
        {
            var timeouts = options.Timeouts;
            timeouts.Connect = timeouts.Greeting = timeouts.Command = timeouts.MailFrom = timeouts.RcptTo = timeouts.DataInitiation = timeouts.DataBlock = timeouts.DataTermination = timeout;
            options.SendTimeout = timeout * 2 > options.SendTimeout ? timeout * 2 : options.SendTimeout;
        }

        if (parse.GetValue(Dns) is { } server)
        {
            options.NameServers.Add(server.ToString());
        }

        options.UseMtaSts = !parse.GetValue(NoMtaSts);
        if (parse.GetValue(CaFile) is { } caFile)
        {
            InputFiles.RequireReadable("--ca-file", caFile);
            options.TrustAnchorFile = caFile.FullName;
        }

        if (parse.GetValue(Relay) is { Length: > 0 } hosts)
        {
            options.Relays[RelayName] = CreateRelay(parse, hosts);
            switch (parse.GetValue(Route))
            {
                case "fallback":
                    options.Routes.FallbackRelay = RelayName;
                    break;
                case "auto":
                    options.Routes.PortBlockedRelay = RelayName;
                    break;
                default:
                    options.Routes.Default = RelayName;
                    break;
            }
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw CliException.Input(CliException.Reason(e).Replace("DirectMail:HeloName", "--helo", StringComparison.Ordinal).Replace("DirectMail:LocalAddress", "--local-address", StringComparison.Ordinal).Replace("DirectMail:Relays:" + RelayName + ":Hosts", "--relay", StringComparison.Ordinal), e);
        }

        return options;
    }

    /// <summary>The relay of --relay with its TLS, certificate and credentials; the secret files are read now.</summary>
    private SmtpRelayOptions CreateRelay(ParseResult parse, string[] hosts)
    {
        var relay = new SmtpRelayOptions();
        relay.Hosts.AddRange(hosts);
        relay.TlsMode = parse.GetValue(RelayTls) switch
        {
            "implicit" => SmtpTlsMode.Implicit,
            "starttls" => SmtpTlsMode.Required,
            _ => hosts[0].EndsWith(":465", StringComparison.Ordinal) ? SmtpTlsMode.Implicit : SmtpTlsMode.Required,
        };
        if (parse.GetValue(RelayCertificate) is { } certificateFile)
        {
            InputFiles.RequireReadable("--relay-certificate", certificateFile);
            X509Certificate2 certificate;
            try
            {
                certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile.FullName);
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw CliException.Input($"--relay-certificate '{certificateFile}': not a certificate ({e.Message})", e);
            }

            // Pinned: exactly this certificate, whatever the system's authorities say of it.
            var pinned = certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
            relay.CertificateValidationCallback = (_, presented, _, _) => presented is not null && string.Equals(presented.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), pinned, StringComparison.Ordinal);
        }

        if (parse.GetValue(AuthUser) is { } user)
        {
            relay.UserName = user;
            if (parse.GetValue(AuthPasswordFile) is { } passwordFile)
            {
                relay.Password = FirstLine("--auth-password-file", passwordFile);
            }
            else if (parse.GetValue(AuthTokenFile) is { } tokenFile)
            {
                var token = FirstLine("--auth-token-file", tokenFile);
                relay.TokenProvider = (_, refresh, _) => ValueTask.FromResult(refresh ? FirstLine("--auth-token-file", tokenFile) : token);
            }

            if (parse.GetValue(AuthMechanism) is { } mechanism)
            {
                relay.AuthMechanism = mechanism switch
                {
                    "SCRAM-SHA-256" => SmtpAuthMechanism.ScramSha256,
                    "SCRAM-SHA-1" => SmtpAuthMechanism.ScramSha1,
                    "PLAIN" => SmtpAuthMechanism.Plain,
                    "LOGIN" => SmtpAuthMechanism.Login,
                    "XOAUTH2" => SmtpAuthMechanism.XOAuth2,
                    _ => SmtpAuthMechanism.OAuthBearer,
                };
            }
        }

        return relay;
    }

    /// <summary>The first line of a secret's file, without its line break; an empty one is an input error.</summary>
    private static string FirstLine(string option, FileInfo file)
    {
        var text = InputFiles.ReadText(option, file);
        var end = text.IndexOfAny(['\r', '\n']);
        var line = end < 0 ? text : text[..end];
        return line.Length > 0 ? line : throw CliException.Input($"{option} '{file}': the file is empty.");
    }

    /// <summary>
    /// This machine's fully qualified name from the local configuration only (no DNS query): the host name when it has
    /// a dot, else host name and domain name. Without one, --helo is required.
    /// </summary>
    private static string DefaultHeloName()
    {
        var properties = IPGlobalProperties.GetIPGlobalProperties();
        var host = properties.HostName.TrimEnd('.');
        var domain = properties.DomainName.TrimEnd('.');
        if (host.Contains('.', StringComparison.Ordinal))
        {
            return host;
        }

        if (host.Length > 0 && domain.Length > 0 && domain != "(none)" && domain != "localdomain")
        {
            return host + "." + domain;
        }

        throw CliException.Usage($"--helo is needed: this machine's name '{host}' has no domain. Give this host's fully qualified name, the one its IP address's PTR record names (--helo mail.example.com), or an address literal (--helo [192.0.2.1]).");
    }
}
