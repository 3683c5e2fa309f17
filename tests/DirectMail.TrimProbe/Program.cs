using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Mime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// The README's trimming claim: a trimmed self-contained program that configures DirectMail with AddDirectMail (the
// source-generated binder reading nested options and a list of DKIM keys) and sends an EmailMessage. Exit 0 when the
// listener below received the message, signed with the configured key; 1 otherwise. `.ci/run` publishes and runs it.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
var port = ((IPEndPoint)listener.LocalEndpoint).Port;
var received = ReceiveOneAsync(listener, timeout.Token);

var key = DkimKeyGenerator.Generate(2048);
var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["DirectMail:HeloName"] = "trim.probe.test",
    ["DirectMail:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ["DirectMail:TlsMode"] = "None",
    ["DirectMail:AllowPrivateTargets"] = "true",
    ["DirectMail:MaxRetryAttempts"] = "0",
    ["DirectMail:Timeouts:Command"] = "00:00:20",
    ["DirectMail:Dkim:0:Domain"] = "trim.probe.test",
    ["DirectMail:Dkim:0:Selector"] = "probe",
    ["DirectMail:Dkim:0:PrivateKey"] = key.PrivateKeyPem,
}).Build();

var services = new ServiceCollection();
services.AddSingleton<IConfiguration>(configuration);
services.AddDirectMail();
await using var provider = services.BuildServiceProvider();
var mailer = provider.GetRequiredService<IDirectMailer>();

var message = new EmailMessage { From = new EmailAddress("sender@trim.probe.test"), Subject = "Trimmed", TextBody = "Sent by a trimmed program." };
message.To.Add("probe@[127.0.0.1]");
var report = await mailer.SendAsync(message, timeout.Token);
Console.WriteLine(report.Recipients[0]);

var data = await received;
var signed = data.Contains("DKIM-Signature: v=1; a=rsa-sha256;", StringComparison.Ordinal) && data.Contains("d=trim.probe.test", StringComparison.Ordinal);
var whole = data.Contains("Sent by a trimmed program.", StringComparison.Ordinal);
Console.WriteLine(report.IsFullyDelivered && signed && whole
    ? "trim probe: delivered, signed by trim.probe.test"
    : $"trim probe: FAILED (delivered {report.IsFullyDelivered}, signed {signed}, body {whole})\n{data}");
return report.IsFullyDelivered && signed && whole ? 0 : 1;

// One SMTP conversation, no extensions offered: returns what came after DATA.
static async Task<string> ReceiveOneAsync(TcpListener listener, CancellationToken cancellationToken)
{
    using var client = await listener.AcceptTcpClientAsync(cancellationToken);
    var stream = client.GetStream();
    var reader = new StreamReader(stream, Encoding.ASCII);
    var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
    await writer.WriteLineAsync("220 trim.probe.test ESMTP");
    var data = new StringBuilder();
    while (await reader.ReadLineAsync(cancellationToken) is { } line)
    {
        var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
        switch (verb)
        {
            case "EHLO":
            case "MAIL":
            case "RCPT":
            case "RSET":
            case "NOOP":
                await writer.WriteLineAsync("250 OK");
                break;
            case "DATA":
                await writer.WriteLineAsync("354 go ahead");
                while (await reader.ReadLineAsync(cancellationToken) is { } body && body != ".")
                {
                    data.Append(body).Append('\n');
                }

                await writer.WriteLineAsync("250 2.0.0 queued");
                break;
            case "QUIT":
                await writer.WriteLineAsync("221 bye");
                return data.ToString();
            default:
                await writer.WriteLineAsync("502 not here");
                break;
        }
    }

    return data.ToString();
}
