using System;
using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Mime;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace DirectMail.Cli;

/// <summary>
/// <c>directmail demo</c>: the whole path with no internet and no setup. A receiving SMTP server starts in this process
/// on a loopback address, the demo domain is routed to it, a message is sent through DirectMailer with the
/// conversation printed, and the message is printed as the server received it.
/// </summary>
internal static class DemoCommand
{
    public const string Domain = "demo.test";
    public const string MxHost = "mx.demo.test";

    public static Command Create()
    {
        var command = new Command("demo", $"Try the whole path offline: start an SMTP server for {Domain} in this process on 127.0.0.1, send it a message through DirectMail with the SMTP conversation shown, and print the message as the server received it.");
        command.SetAction((_, cancellationToken) => RunAsync(cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var output = Console.Out;
        var started = Stopwatch.StartNew();

        // 1. The receiving side: the SmtpServer package's server on a free loopback port.
        var endPoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var serverOptions = new SmtpServerOptionsBuilder().ServerName(MxHost).Endpoint(e => e.Endpoint(endPoint).IsSecure(false)).Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new KeepingStore(received));
        var server = new SmtpServer.SmtpServer(serverOptions, services);
        var running = server.StartAsync(stop.Token);
        await WaitUntilListeningAsync(endPoint, running, cancellationToken).ConfigureAwait(false);

        output.WriteLine("directmail demo: a real delivery, with no internet and no setup.");
        output.WriteLine();
        output.WriteLine($"1. Started an SMTP server for {Domain} in this process on {endPoint} ({MxHost}).");

        // 2. The route: an IMxResolver that sends the demo domain to that server (`directmail mx` asks DNS instead).
        var resolver = new DemoResolver(endPoint.Address);
        var resolution = await resolver.ResolveAsync(Domain, cancellationToken).ConfigureAwait(false);
        output.WriteLine($"2. MX lookup, as `directmail mx {Domain}` would show it: {resolution}");

        // 3. The send: the same DirectMailer applications use, with the transcript printed.
        var message = new EmailMessage
        {
            From = new EmailAddress("demo@sender.test", "DirectMail demo"),
            Subject = "Hello from DirectMail",
            TextBody = "This message went through an MX lookup, EHLO, MAIL FROM, RCPT TO, DATA and QUIT.\n.A line that starts with a dot arrives intact.",
        };
        message.To.Add(new EmailAddress("someone@" + Domain, "Someone"));

        var options = new DirectMailOptions
        {
            HeloName = "client.sender.test",
            Port = endPoint.Port,
            AllowPrivateTargets = true, // the demo server is on loopback, which real deliveries refuse
            MaxRetryAttempts = 0,
        };
        output.WriteLine($"3. Sending a message to someone@{Domain}; the SMTP conversation (S: server, C: DirectMail):");
        output.WriteLine();

        DeliveryReport report;
        using (var log = new ConsoleLog(output, null))
        using (var loggerFactory = log.CreateFactory())
        {
            await using var mailer = new DirectMailer(options, resolver, loggerFactory);
            report = await mailer.SendAsync(message, cancellationToken).ConfigureAwait(false);

            // Disposing the mailer closes its pooled connection: the QUIT belongs to the transcript.
        }

        output.WriteLine();
        output.WriteLine("4. The delivery report:");
        Describe.PrintText(report, output);
        output.WriteLine();

        if (!report.IsFullyDelivered)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            Console.Error.WriteLine("directmail demo: the message was not delivered; see the report above.");
            return ExitCodes.Internal;
        }

        var stored = await received.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        output.WriteLine($"5. The message as {MxHost} received it:");
        output.WriteLine(new string('-', 72));
        output.Write(stored.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", Environment.NewLine, StringComparison.Ordinal));
        output.WriteLine(new string('-', 72));
        output.WriteLine();
        output.WriteLine($"Done in {started.Elapsed.TotalSeconds:F1} s. Next: `directmail mx gmail.com`, and `directmail send --help` for a real delivery (outbound port 25 must be open).");

        server.Shutdown();
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await running.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            // Stopping.
        }

        return ExitCodes.Success;
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static async Task WaitUntilListeningAsync(IPEndPoint endPoint, Task running, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 250; attempt++)
        {
            if (running.IsFaulted)
            {
                await running.ConfigureAwait(false);
            }

            try
            {
                using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException($"The demo SMTP server did not start on {endPoint}.");
    }

    /// <summary>Routes the demo domain to the demo server; every other domain does not exist here.</summary>
    private sealed class DemoResolver(IPAddress address) : IMxResolver
    {
        public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(domain);
            return ValueTask.FromResult(string.Equals(domain.TrimEnd('.'), Domain, StringComparison.OrdinalIgnoreCase)
                ? MxResolution.FromTargets(Domain, [new MxTarget(MxHost, 10, [new MxAddress(address)])])
                : MxResolution.FromFailure(domain, MxResolutionStatus.DomainNotFound, $"{domain} does not exist in the demo: only {Domain} is routed."));
        }
    }

    /// <summary>Keeps the message the demo server receives, to print it.</summary>
    private sealed class KeepingStore(TaskCompletionSource<string> received) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            // The server hands over the data without the CRLF that ends its last line; it is put back.
            received.TrySetResult(Encoding.UTF8.GetString(buffer.ToArray()) + "\r\n");
            return Task.FromResult(new SmtpResponse(SmtpReplyCode.Ok, "2.0.0 Ok: queued"));
        }
    }
}
