using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>
/// A TCP relay that adds latency where the kernel cannot (no netem here): it listens on <see cref="EndPoint"/>, opens a
/// connection to the target for every connection it accepts, and forwards each chunk it reads, in either direction,
/// <see cref="Delay"/> after it was read. A round trip through it costs twice the delay (25 ms each way: 50 ms).
/// </summary>
/// <remarks>
/// Each direction has a reader and a writer joined by a queue of timestamped chunks: the reader never waits for the
/// writer, so a chunk read at t is written at t + delay however many chunks are in flight, in the order read. The delay
/// is latency only: it does not cap throughput at one chunk per delay. The relay buffers without limit (no TCP
/// window is emulated), which is harmless for the small messages the benchmarks send. Both sockets of every
/// connection have TCP_NODELAY, so the relay adds no Nagle stall of its own. An end of stream is forwarded (as a
/// send shutdown) after the same delay; a reset or error closes both sockets.
/// </remarks>
public sealed class DelayingTcpRelay : IDisposable
{
    private const int ReadSize = 64 * 1024;
    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Link, byte> _links = new();
    private readonly Task _accepting;
    private long _connections;
    private long _chunksToTarget;
    private long _chunksFromTarget;

    /// <param name="endPoint">Where the relay listens.</param>
    /// <param name="target">Where it forwards every accepted connection.</param>
    /// <param name="delay">How long every chunk is held in each direction; 25 ms if null.</param>
    public DelayingTcpRelay(IPEndPoint endPoint, IPEndPoint target, TimeSpan? delay = null)
    {
        Delay = delay ?? TimeSpan.FromMilliseconds(25);
        _target = target;
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(endPoint);
        _listener.Listen(1000);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint { get; }

    public TimeSpan Delay { get; }

    /// <summary>Connections accepted so far.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Chunks forwarded from clients to the target so far (each one client write, or several coalesced).</summary>
    public long ChunksToTarget => Interlocked.Read(ref _chunksToTarget);

    /// <summary>Chunks forwarded from the target to clients so far.</summary>
    public long ChunksFromTarget => Interlocked.Read(ref _chunksFromTarget);

    public void Dispose()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _listener.Dispose();
        foreach (var link in _links.Keys)
        {
            link.Close();
        }

        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The accept loop ends with the listener; its exception is of no interest here.
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        client.NoDelay = true;
        var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var link = new Link(client, server);
        _links.TryAdd(link, 0);
        try
        {
            try
            {
                await server.ConnectAsync(_target, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            await Task.WhenAll(
                PumpAsync(client, server, link, toTarget: true),
                PumpAsync(server, client, link, toTarget: false)).ConfigureAwait(false);
        }
        finally
        {
            link.Close();
            _links.TryRemove(link, out _);
        }
    }

    /// <summary>One direction: a reader that timestamps and queues every chunk, and a writer that sends each at its time.</summary>
    private async Task PumpAsync(Socket from, Socket to, Link link, bool toTarget)
    {
        var queue = Channel.CreateUnbounded<Chunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writing = WriteAsync(queue.Reader, to, link, toTarget);
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
                int read;
                try
                {
                    read = await from.ReceiveAsync(buffer.AsMemory(0, ReadSize), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }

                var due = Stopwatch.GetTimestamp() + (long)(Delay.TotalSeconds * Stopwatch.Frequency);
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    queue.Writer.TryWrite(new Chunk(null, 0, due)); // the end of stream, forwarded after the delay too
                    break;
                }

                queue.Writer.TryWrite(new Chunk(buffer, read, due));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            link.Close();
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        await writing.ConfigureAwait(false);
    }

    private async Task WriteAsync(ChannelReader<Chunk> queue, Socket to, Link link, bool toTarget)
    {
        try
        {
            await foreach (var chunk in queue.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    // Task.Delay counts whole milliseconds and may fire a little early: wait again until the chunk is due.
                    TimeSpan wait;
                    while ((wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), chunk.Due)) > TimeSpan.Zero)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _stopping.Token).ConfigureAwait(false);
                    }

                    if (chunk.Buffer is null)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        continue;
                    }

                    await to.SendAsync(chunk.Buffer.AsMemory(0, chunk.Length), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref toTarget ? ref _chunksToTarget : ref _chunksFromTarget);
                }
                finally
                {
                    if (chunk.Buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(chunk.Buffer);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            link.Close();

            // Return the buffers still queued.
            while (queue.TryRead(out var left))
            {
                if (left.Buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(left.Buffer);
                }
            }
        }
    }

    /// <summary>A chunk read and when it is due to be written; a null buffer is the end of the stream.</summary>
    private readonly record struct Chunk(byte[]? Buffer, int Length, long Due);

    /// <summary>The two sockets of one relayed connection.</summary>
    private sealed class Link(Socket client, Socket server)
    {
        private int _closed;

        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                client.Dispose();
                server.Dispose();
            }
        }
    }
}
