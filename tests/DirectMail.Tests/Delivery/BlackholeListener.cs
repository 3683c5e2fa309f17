using System;
using System.Net;
using System.Net.Sockets;
using System.Collections.Generic;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// A listener that never accepts, whose accept queue is filled at start: Linux then drops every further SYN, so a
/// connection attempt times out exactly as it does towards a firewalled port 25.
/// </summary>
public sealed class BlackholeListener : IDisposable
{
    private readonly Socket _listener;
    private readonly Socket[] _fillers;

    public BlackholeListener(IPAddress address)
    {
        EndPoint = TestAddresses.Delivery.EndPoint(address);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(EndPoint);
        _listener.Listen(0); // the kernel's queue then holds one connection

        _fillers = new Socket[2];
        for (var i = 0; i < _fillers.Length; i++)
        {
            _fillers[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            try
            {
                _fillers[i].Connect(EndPoint);
            }
            catch (SocketException)
            {
                // In progress (non-blocking), or dropped once the queue is full: either way the queue fills.
            }
        }

        // The queue is full once a filler's handshake has completed (its socket turns writable without an error):
        // wait for that, rather than for a guessed time.
        var ready = new List<Socket>(_fillers);
        Socket.Select(null, ready, null, TimeSpan.FromSeconds(10));
        foreach (var filler in ready)
        {
            if ((int)filler.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! == 0)
            {
                return;
            }
        }

        Dispose();
        throw new InvalidOperationException($"The accept queue of {EndPoint} did not fill: no filler connection completed.");
    }

    public IPEndPoint EndPoint { get; }

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
