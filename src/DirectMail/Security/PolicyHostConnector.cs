using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security;

/// <summary>
/// The connection of the mailer's HTTPS clients (MTA-STS policy fetches, TLS-RPT report posts): the host resolved by
/// the mailer's own DNS, never the system resolver, and, unless private targets are allowed, only public addresses,
/// so that a name published by a receiving domain cannot point the mailer at the sender's own network.
/// </summary>
internal sealed class PolicyHostConnector(Func<string, CancellationToken, ValueTask<IPAddress[]>> resolve, bool allowPrivate)
{
    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/>.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await resolve(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            if (!allowPrivate && Dns.AddressScopes.Classify(address) != Dns.AddressScope.Public)
            {
                last = new SocketException((int)SocketError.AccessDenied, $"{context.DnsEndPoint.Host} resolves to {address}, which is not public (DirectMail:AllowPrivateTargets is off).");
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound, $"{context.DnsEndPoint.Host} has no address.");
    }
}
