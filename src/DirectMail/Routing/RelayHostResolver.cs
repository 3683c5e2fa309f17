using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;

namespace DirectMail.Routing;

/// <summary>
/// Finds a relay host's addresses through the mailer's own DNS (the <see cref="MxResolver"/> and its name servers,
/// <c>DirectMail:NameServers</c>), never through the system's resolver: the A and AAAA lookup of MX hosts, with the
/// address family preference and the TTL cache. An address literal is its own address. The scope of an address is not
/// filtered (a relay is the operator's own choice, often on a private network, unlike an MX a recipient's DNS names).
/// </summary>
internal sealed class RelayHostResolver
{
    private readonly Lazy<MxResolver> _resolver;

    /// <param name="resolver">The mailer's resolver: used when it is an <see cref="MxResolver"/>.</param>
    /// <param name="create">Makes one from the mailer's DNS settings otherwise (an application's own <see cref="IMxResolver"/>), when first needed.</param>
    public RelayHostResolver(IMxResolver resolver, Func<MxResolver> create)
    {
        _resolver = resolver is MxResolver own ? new Lazy<MxResolver>(own) : new Lazy<MxResolver>(create, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The addresses of <paramref name="host"/>, in the order to try them.</summary>
    /// <exception cref="SocketException">The host did not resolve (<see cref="SocketError.TryAgain"/> when that may pass, <see cref="SocketError.HostNotFound"/> otherwise); the message says why.</exception>
    public async ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        var found = await _resolver.Value.ResolveHostAsync(host, cancellationToken).ConfigureAwait(false);
        if (found.Addresses.IsDefaultOrEmpty)
        {
            throw new SocketException((int)(found.IsTransient ? SocketError.TryAgain : SocketError.HostNotFound), found.Reason);
        }

        var addresses = new IPAddress[found.Addresses.Length];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = found.Addresses[i].Address;
        }

        return addresses;
    }
}
