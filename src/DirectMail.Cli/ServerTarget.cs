using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Routing;
using DnsClient;
using DnsClient.Protocol;

namespace DirectMail.Cli;

/// <summary>
/// <c>send --server HOST[:PORT]</c>: every recipient's mail goes to that one host, with no MX lookup, through an
/// <see cref="IMxResolver"/> that answers every domain with it. A host name is resolved through <c>--dns</c> when given,
/// else the system's resolver (as <c>ping</c> or swaks would).
/// </summary>
internal sealed class ServerTarget : IMxResolver
{
    private readonly IPEndPoint? _dns;
    private readonly AddressFamilyPreference _family;

    private ServerTarget(string host, int? port, IPEndPoint? dns, AddressFamilyPreference family)
    {
        Host = host;
        Port = port;
        _dns = dns;
        _family = family;
    }

    /// <summary>The host as given (a name, or an IP address without brackets).</summary>
    public string Host { get; }

    /// <summary>The port given with it; null: --port's.</summary>
    public int? Port { get; }

    /// <summary>Reads HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address; null when it is none of these.</summary>
    public static (string Host, int? Port)? Parse(string text)
    {
        if (RelayTarget.ParseHost(text, 0) is not { } parsed)
        {
            return null;
        }

        return (parsed.Host, parsed.Port == 0 ? null : parsed.Port);
    }

    public static ServerTarget Create(string text, IPEndPoint? dns, AddressFamilyPreference family)
    {
        var (host, port) = Parse(text) ?? throw CliException.Usage($"--server '{text}' is not HOST or HOST:PORT.");
        return new ServerTarget(host, port, dns, family);
    }

    public async ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await HostAddresses.ResolveAsync(Host, _dns, _family, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or DnsResponseException)
        {
            return MxResolution.FromFailure(domain, MxResolutionStatus.DnsFailure, $"The address lookup of --server {Host} failed: {e.Message}");
        }

        if (addresses.Length == 0)
        {
            return MxResolution.FromFailure(domain, MxResolutionStatus.NoUsableTargets, $"--server {Host} has no {HostAddresses.Family(_family)}address.");
        }

        var targets = new MxAddress[addresses.Length];
        for (var i = 0; i < addresses.Length; i++)
        {
            targets[i] = new MxAddress(addresses[i]);
        }

        return MxResolution.FromTargets(domain, [new MxTarget(Host, 0, targets)]);
    }
}

/// <summary>The addresses of a host the user named (--server, a relay for --quit-after): through --dns when given, else the system's resolver.</summary>
internal static class HostAddresses
{
    public static async Task<IPAddress[]> ResolveAsync(string host, IPEndPoint? dns, AddressFamilyPreference family, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPAddress> found;
        if (IPAddress.TryParse(host, out var literal))
        {
            found = [literal];
        }
        else if (dns is null)
        {
            found = await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var client = new LookupClient(new LookupClientOptions(dns) { UseCache = false, Timeout = TimeSpan.FromSeconds(5), Retries = 2, ThrowDnsErrors = true });
            var list = new List<IPAddress>();
            if (family != AddressFamilyPreference.IPv6Only)
            {
                var a = await client.QueryAsync(host, QueryType.A, cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var record in System.Linq.Enumerable.OfType<ARecord>(a.Answers))
                {
                    list.Add(record.Address);
                }
            }

            if (family != AddressFamilyPreference.IPv4Only)
            {
                var aaaa = await client.QueryAsync(host, QueryType.AAAA, cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var record in System.Linq.Enumerable.OfType<AaaaRecord>(aaaa.Answers))
                {
                    list.Add(record.Address);
                }
            }

            found = list;
        }

        var kept = new List<IPAddress>(found.Count);
        foreach (var address in found)
        {
            var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
            if (family == AddressFamilyPreference.IPv4Only ? !v6 : family != AddressFamilyPreference.IPv6Only || v6)
            {
                kept.Add(address);
            }
        }

        return kept.ToArray();
    }

    /// <summary>"IPv4 " or "IPv6 " for a single-family preference, else empty.</summary>
    public static string Family(AddressFamilyPreference family) => family switch
    {
        AddressFamilyPreference.IPv4Only => "IPv4 ",
        AddressFamilyPreference.IPv6Only => "IPv6 ",
        _ => string.Empty,
    };
}
