// A real SMTP delivery with DirectMail's SmtpSession, printed as a telnet transcript.
//
//   dotnet run --project samples/LocalDelivery                 # to an SMTP server started in this process on 127.0.0.1
//   dotnet run --project samples/LocalDelivery -- 127.0.0.1:25 # to a server you name (an IP address and port)
using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
using var stop = new CancellationTokenSource();
IPEndPoint target;
if (args.Length > 0)
{
    target = IPEndPoint.Parse(args[0]);
}
else
{
    target = new IPEndPoint(IPAddress.Loopback, FreePort());
    var options = new SmtpServerOptionsBuilder().ServerName("mx.demo.test").Endpoint(e => e.Endpoint(target)).Build();
    var services = new SmtpServer.ComponentModel.ServiceProvider();
    services.Add(new PrintingStore(received));
    _ = new SmtpServer.SmtpServer(options, services).StartAsync(stop.Token);
    await Task.Delay(200);
    Console.WriteLine($"Started a receiving SMTP server on {target} (mx.demo.test).");
}

var message = """
    From: DirectMail demo <demo@sender.test>
    To: Recipient <someone@demo.test>
    Subject: Hello from DirectMail
    Date: Thu, 26 Nov 2026 10:00:00 +0000
    Message-ID: <demo-1@sender.test>

    This message went through EHLO, MAIL FROM, RCPT TO, DATA and QUIT.
    .A line that starts with a dot arrives intact.
    """.Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n";

await using var session = new SmtpSession(new SmtpSessionOptions { HeloName = "client.sender.test", TlsMode = SmtpTlsMode.Opportunistic }, new TranscriptLogger());
var connected = await session.ConnectAsync(target, "mx.demo.test");
if (!connected.IsSuccess)
{
    Console.Error.WriteLine($"Could not open a session: {connected.Failure}");
    return 1;
}

var result = await session.SendAsync(new SmtpEnvelope("demo@sender.test", "someone@demo.test"), SmtpContent.FromBytes(Encoding.UTF8.GetBytes(message)));
await session.QuitAsync();

Console.WriteLine();
foreach (var recipient in result.Recipients)
{
    Console.WriteLine($"{recipient.Address}: {(recipient.IsDelivered ? "delivered" : "not delivered")} — {recipient.Reply}");
}

if (args.Length == 0)
{
    Console.WriteLine();
    Console.WriteLine("The server stored:");
    Console.WriteLine(await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    stop.Cancel();
}

return result.IsDelivered ? 0 : 1;

static int FreePort()
{
    var probe = new TcpListener(IPAddress.Loopback, 0);
    probe.Start();
    var port = ((IPEndPoint)probe.LocalEndpoint).Port;
    probe.Stop();
    return port;
}

/// <summary>Prints the C:/S: transcript the session logs at Trace level.</summary>
internal sealed class TranscriptLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Trace;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Console.WriteLine(formatter(state, exception));
}

/// <summary>Keeps the message the demo server receives, to print it.</summary>
internal sealed class PrintingStore(TaskCompletionSource<string> received) : MessageStore
{
    public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        received.TrySetResult(Encoding.UTF8.GetString(buffer.ToArray()));
        return Task.FromResult(new SmtpResponse(SmtpReplyCode.Ok, "2.0.0 Ok: queued"));
    }
}
