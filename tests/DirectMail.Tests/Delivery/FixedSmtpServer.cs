using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// <see cref="ScriptedSmtpServer"/>'s twin bound to a FIXED address and port, as an MX host named in the delivery
/// zone must be: every accepted connection runs the script with a <see cref="ScriptedConnection"/>. It counts
/// accepted connections (what a mailer really opened) and those still open.
/// </summary>
public sealed class FixedSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<ScriptedConnection, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _open;
    private int _maxOpen;

    private FixedSmtpServer(IPEndPoint endPoint, Func<ScriptedConnection, Task> script)
    {
        _script = script;
        _listener = new TcpListener(endPoint);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start(512);
        EndPoint = endPoint;
        _acceptLoop = AcceptAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>How many connections were accepted.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>How many accepted connections are still open (their script has not ended).</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>The most connections open at once.</summary>
    public int MaxOpen => Volatile.Read(ref _maxOpen);

    /// <summary>The first exception a script threw, if any.</summary>
    public Exception? ScriptError { get; private set; }

    public static FixedSmtpServer Start(IPAddress address, Func<ScriptedConnection, Task> script) =>
        new(DeliveryAddresses.EndPoint(address), script);

    /// <summary>A well-behaved server (Postfix's replies) whose dialogue the test reads afterwards.</summary>
    public static FixedSmtpServer Start(IPAddress address, SmtpDialogue dialogue) => Start(address, dialogue.RunAsync);

    /// <summary>Waits until no connection is open any more (the client closed or QUIT everything).</summary>
    public async Task WaitUntilAllClosedAsync(TimeSpan? timeout = null)
    {
        var all = Task.WhenAll(_connections.ToArray());
        if (await Task.WhenAny(all, Task.Delay(timeout ?? TimeSpan.FromSeconds(10))) != all)
        {
            throw new TimeoutException($"{Open} connection(s) to {EndPoint} are still open.");
        }

        if (ScriptError is not null)
        {
            throw new InvalidOperationException($"The script of {EndPoint} failed: {ScriptError.Message}", ScriptError);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception)
        {
        }

        try
        {
            await Task.WhenAll(_connections.ToArray()).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            var open = Interlocked.Increment(ref _open);
            int max;
            while (open > (max = Volatile.Read(ref _maxOpen)) && Interlocked.CompareExchange(ref _maxOpen, open, max) != max)
            {
            }

            _connections.Add(Task.Run(async () =>
            {
                try
                {
                    await using var connection = new ScriptedConnection(socket, _stop.Token);
                    await _script(connection);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ScriptError ??= e;
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }));
        }
    }
}

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
        EndPoint = DeliveryAddresses.EndPoint(address);
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

        Thread.Sleep(50);
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
