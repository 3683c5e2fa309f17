using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using DirectMail.Smtp;

namespace DirectMail.Routing;

/// <summary>
/// A configured relay, ready for delivery: its name, its hosts with their ports, and the session settings of every
/// connection to it (TLS, certificate, credentials). Built once by the mailer; the pool keeps its connections apart from
/// the MX ones and from other relays', so that each is authenticated once and reused.
/// </summary>
internal sealed class RelayTarget
{
    public RelayTarget(string name, SmtpRelayOptions relay, SmtpSessionOptions baseOptions)
    {
        Name = name;
        var hosts = new List<RelayHost>(relay.Hosts.Count);
        var defaultPort = relay.TlsMode == SmtpTlsMode.Implicit ? 465 : 587;
        foreach (var entry in relay.Hosts)
        {
            hosts.Add(ParseHost(entry, defaultPort) ?? throw new ArgumentException($"The relay host '{entry}' is not host or host:port.", nameof(relay)));
        }

        Hosts = hosts;
        SessionOptions = new SmtpSessionOptions
        {
            HeloName = baseOptions.HeloName,
            LocalEndPoint = baseOptions.LocalEndPoint,
            Timeouts = baseOptions.Timeouts,
            TlsMode = relay.TlsMode,
            ValidateCertificate = relay.ValidateCertificate,
            CertificateValidationCallback = relay.CertificateValidationCallback,
            Credentials = relay.ToCredentials(),
            AuthMechanism = relay.AuthMechanism,
            IsConfiguredRelay = true,
        };
    }

    /// <summary>The relay's name in <c>DirectMail:Relays</c>.</summary>
    public string Name { get; }

    /// <summary>The hosts in the order they are tried.</summary>
    public IReadOnlyList<RelayHost> Hosts { get; }

    public SmtpSessionOptions SessionOptions { get; }

    /// <summary>Reads <c>host</c>, <c>host:port</c>, <c>[IPv6]:port</c> or a bare IPv6 address; null when it is none of these.</summary>
    internal static RelayHost? ParseHost(string? entry, int defaultPort)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return null;
        }

        entry = entry.Trim();
        string host;
        var port = defaultPort;
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            host = entry[1..close];
            var rest = entry[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryPort(rest[1..], out port)))
            {
                return null;
            }
        }
        else if (entry.AsSpan().Count(':') == 1)
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            host = entry[..colon];
            if (!TryPort(entry[(colon + 1)..], out port))
            {
                return null;
            }
        }
        else
        {
            host = entry;
        }

        if (host.Length == 0 || (host.Contains(':', StringComparison.Ordinal) && !IPAddress.TryParse(host, out _)))
        {
            return null;
        }

        return new RelayHost(host.TrimEnd('.'), port);
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
}

/// <summary>One host of a relay: its name (or address) and port.</summary>
internal readonly record struct RelayHost(string Host, int Port);
