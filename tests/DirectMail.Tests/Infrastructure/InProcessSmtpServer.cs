using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// The SmtpServer NuGet package's server, in this process on a loopback address: an independent SMTP
/// implementation for fast integration tests. It stores every message with its envelope, and refuses recipients
/// whose local part starts with "unknown" (550), as a real server refuses unknown users.
/// </summary>
public sealed class InProcessSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;

    private InProcessSmtpServer(IPAddress address, int maxMessageSize)
    {
        EndPoint = new IPEndPoint(address, FreePort(address));
        var builder = new SmtpServerOptionsBuilder()
            .ServerName("inprocess.test")
            .Endpoint(e => e.Endpoint(EndPoint).IsSecure(false));
        if (maxMessageSize > 0)
        {
            builder = builder.MaxMessageSize(maxMessageSize, MaxMessageSizeHandling.Strict);
        }

        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(Messages));
        services.Add(new RecipientFilter());
        _server = new SmtpServer.SmtpServer(builder.Build(), services);
        _running = _server.StartAsync(_stop.Token);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Every stored message: its envelope and the content as the server received it.</summary>
    public ConcurrentQueue<StoredMail> Messages { get; } = new();

    public static async Task<InProcessSmtpServer> StartAsync(string address = "127.0.25.2", int maxMessageSize = 0)
    {
        var server = new InProcessSmtpServer(IPAddress.Parse(address), maxMessageSize);
        await WaitUntilListeningAsync(server.EndPoint);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        _stop.Cancel();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Stopping.
        }

        _stop.Dispose();
    }

    private static int FreePort(IPAddress address)
    {
        var probe = new TcpListener(address, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static async Task WaitUntilListeningAsync(IPEndPoint endPoint)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(endPoint);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new InvalidOperationException($"The in-process SMTP server did not start on {endPoint}.");
    }

    private sealed class Store(ConcurrentQueue<StoredMail> messages) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var recipients = new List<string>();
            foreach (var to in transaction.To)
            {
                recipients.Add(to.AsAddress());
            }

            // This server hands over the data without the CRLF that ends its last line (it treats the whole
            // "<CRLF>.<CRLF>" as the terminator); RFC 5321 section 4.1.1.4 says that CRLF ends the last line, so
            // it is put back to store what the client really sent.
            var content = new byte[buffer.Length + 2];
            buffer.CopyTo(content);
            content[^2] = (byte)'\r';
            content[^1] = (byte)'\n';
            messages.Enqueue(new StoredMail(transaction.From?.AsAddress() ?? string.Empty, recipients, content));
            return Task.FromResult(SmtpResponse.Ok);
        }
    }

    private sealed class RecipientFilter : MailboxFilter
    {
        public override Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
            => Task.FromResult(!to.User.StartsWith("unknown", StringComparison.Ordinal));
    }
}
