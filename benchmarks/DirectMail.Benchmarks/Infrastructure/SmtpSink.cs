using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>
/// Postfix's <c>smtp-sink</c> on a loopback address: it answers every command (PIPELINING, 8BITMIME; no SIZE, no
/// CHUNKING, no STARTTLS) and throws the mail away, so a benchmark measures the client and the loopback only.
/// </summary>
public sealed class SmtpSink : IDisposable
{
    /// <summary>The sink's address; the benchmarks use 127.0.25.0/24 only.</summary>
    public static readonly IPAddress Address = IPAddress.Parse("127.0.25.20");

    private const string Command = "/usr/sbin/smtp-sink";
    private readonly ChildProcess _process;

    private SmtpSink(ChildProcess process, IPEndPoint endPoint)
    {
        _process = process;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Starts <c>smtp-sink -u nobody ADDRESS:PORT 1000</c> on <see cref="Address"/> and waits until it greets with 220.</summary>
    public static SmtpSink Start(int port = 10026) => Start(new IPEndPoint(Address, port));

    /// <summary>
    /// Starts <c>smtp-sink -u nobody [-h HOSTNAME] ADDRESS:PORT 1000</c> and waits until it greets with 220;
    /// <paramref name="hostName"/> is the name it greets and answers EHLO with.
    /// </summary>
    public static SmtpSink Start(IPEndPoint endPoint, string? hostName = null)
    {
        if (!File.Exists(Command))
        {
            throw new InvalidOperationException($"{Command} is missing: apt-get install postfix (it ships smtp-sink).");
        }

        // -u: drop root after binding (required when started as root); 1000: the listen backlog.
        var arguments = new List<string>();
        if (Environment.IsPrivilegedProcess)
        {
            arguments.AddRange(["-u", "nobody"]);
        }

        if (hostName is not null)
        {
            arguments.AddRange(["-h", hostName]);
        }

        arguments.AddRange([$"{endPoint.Address}:{endPoint.Port}", "1000"]);
        for (var attempt = 1; ; attempt++)
        {
            var process = new ChildProcess(Command, [.. arguments]);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!process.HasExited && DateTime.UtcNow < deadline)
            {
                if (Greets(endPoint))
                {
                    return new SmtpSink(process, endPoint);
                }

                Thread.Sleep(50);
            }

            var exit = process.HasExited ? process.ExitCode : -1;
            process.Dispose();
            if (attempt == 5)
            {
                throw new InvalidOperationException($"smtp-sink did not greet on {endPoint} (exit code {exit}); is the port in use?\n{process.Output}");
            }

            // The previous benchmark process's sink may still hold the port for a moment.
            Thread.Sleep(500);
        }
    }

    public void Dispose() => _process.Dispose();

    private static bool Greets(IPEndPoint endPoint)
    {
        try
        {
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.ReceiveTimeout = 1000;
            socket.Connect(endPoint);
            var buffer = new byte[256];
            var read = socket.Receive(buffer);
            var ready = Encoding.ASCII.GetString(buffer, 0, read).StartsWith("220", StringComparison.Ordinal);
            socket.Send("QUIT\r\n"u8);
            return ready;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
