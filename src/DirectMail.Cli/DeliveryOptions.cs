using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Cli;

/// <summary>
/// The options that say how mail is delivered (--helo, --dns, --port, --tls, --allow-private-targets), shared by the
/// commands that deliver (send, queue run): one instance per command, made into the mailer's <see cref="DirectMailOptions"/>.
/// </summary>
internal sealed class DeliveryOptions
{
    public DeliveryOptions()
    {
        Tls.AcceptOnlyFromAmong("opportunistic", "required", "none");
        Options.AddRange(Port, port => port is >= 1 and <= 65535, "--port must be 1 to 65535.");
    }

    public Option<string> Helo { get; } = new("--helo") { Description = "The name given in EHLO: this host's fully qualified name, as its IP's PTR record says (default: the machine's name when it has a domain).", HelpName = "NAME" };

    public Option<IPEndPoint?> Dns { get; } = Options.Dns();

    public Option<int> Port { get; } = new("--port") { Description = "The SMTP port of the MX hosts (tests and labs only: MX hosts receive mail on 25).", DefaultValueFactory = _ => 25, HelpName = "N" };

    public Option<string> Tls { get; } = new("--tls") { Description = "STARTTLS: opportunistic (encrypt when offered, as MTAs do), required (fail without a valid certificate) or none.", DefaultValueFactory = _ => "opportunistic" };

    public Option<bool> AllowPrivate { get; } = new("--allow-private-targets") { Description = "Allow MX targets on loopback and private addresses (tests and intranets)." };

    /// <summary>The options, in the order help lists them.</summary>
    public IEnumerable<Option> All => [Helo, Dns, Port, Tls, AllowPrivate];

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
        };
        if (parse.GetValue(Dns) is { } server)
        {
            options.NameServers.Add(server.ToString());
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw CliException.Input(CliException.Reason(e).Replace("DirectMail:HeloName", "--helo", StringComparison.Ordinal), e);
        }

        return options;
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
