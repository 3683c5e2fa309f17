using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>
/// <c>dotnet run -c Release -- relay-check</c>: checks <see cref="DelayingTcpRelay"/> itself. An echo server on
/// 127.0.46.30:10030 behind a relay on 127.0.46.31:10031; 50 one-byte writes 2 ms apart go through it on one
/// connection, and each echo's round trip is timed. No round trip may be shorter than twice the delay (50 ms), and
/// none much longer however many writes are in flight: were the delay serialised per chunk, the later ones would take
/// seconds.
/// </summary>
internal static class RelayTimingCheck
{
    public static async Task<int> RunAsync()
    {
        var echoEndPoint = new IPEndPoint(IPAddress.Parse("127.0.46.30"), 10030);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(echoEndPoint);
        listener.Listen(10);
        var echo = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptAsync();
            accepted.NoDelay = true;
            var buffer = new byte[4096];
            int read;
            while ((read = await accepted.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await accepted.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        });

        using var relay = new DelayingTcpRelay(new IPEndPoint(IPAddress.Parse("127.0.46.31"), 10031), echoEndPoint);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(relay.EndPoint);

        const int Writes = 50;
        var sentAt = new long[Writes];
        var roundTrips = new double[Writes];
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            var received = 0;
            while (received < Writes)
            {
                var read = await client.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    throw new InvalidOperationException("The relay closed the connection.");
                }

                var now = Stopwatch.GetTimestamp();
                for (var k = 0; k < read; k++, received++)
                {
                    if (buffer[k] != (byte)received)
                    {
                        throw new InvalidOperationException($"Byte {received} came back as {buffer[k]}: out of order.");
                    }

                    roundTrips[received] = Stopwatch.GetElapsedTime(sentAt[received], now).TotalMilliseconds;
                }
            }
        });

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Writes; i++)
        {
            sentAt[i] = Stopwatch.GetTimestamp();
            await client.SendAsync(new[] { (byte)i }, SocketFlags.None);
            await Task.Delay(2);
        }

        await receiving;
        var total = clock.Elapsed.TotalMilliseconds;
        client.Shutdown(SocketShutdown.Send);
        await echo;

        var sorted = roundTrips.Order().ToArray();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{Writes} writes through the relay ({relay.Delay.TotalMilliseconds} ms each way): round trip min {sorted[0]:F1} ms, median {sorted[Writes / 2]:F1} ms, max {sorted[^1]:F1} ms; all echoed {total:F0} ms after the first write; {relay.ChunksToTarget} chunks forwarded, {relay.ChunksFromTarget} back."));
        // Never shorter than the two delays; and not serialised: were each chunk held after the one before it, the last
        // echo would come Writes x delay after the first write. (On a loaded machine round trips run late by a few ms.)
        var expected = 2 * relay.Delay.TotalMilliseconds;
        var ok = sorted[0] >= expected && total < Writes * relay.Delay.TotalMilliseconds / 2;
        Console.WriteLine(ok ? "OK: no round trip is shorter than twice the delay, and the delay is not serialised." : "FAILED: a round trip is shorter than twice the delay, or the delays add up.");
        return ok ? 0 : 1;
    }
}
