using System;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>
/// An MX host for the transport-security tests: a <see cref="ScriptedSmtpServer"/> that offers STARTTLS with a given
/// certificate (or, stripped, does not offer it, as a man in the middle who removes it), then a well-behaved dialogue.
/// What it stored and every command it received are the test's evidence.
/// </summary>
public sealed class StartTlsSmtpServer : IAsyncDisposable
{
    private const string EhloWithStartTls = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES";

    private readonly ScriptedSmtpServer _server;

    private StartTlsSmtpServer(IPEndPoint endPoint, X509Certificate2? certificate)
    {
        _server = ScriptedSmtpServer.Start(certificate is null ? Dialogue.RunAsync : c => RunWithTlsAsync(c, certificate), endPoint);
    }

    /// <summary>The dialogue after TLS (or without it): its <see cref="SmtpDialogue.Messages"/> and <see cref="SmtpDialogue.Commands"/>.</summary>
    public SmtpDialogue Dialogue { get; } = new();

    /// <summary>How many TLS handshakes completed.</summary>
    public int Handshakes { get; private set; }

    /// <summary>Connections accepted.</summary>
    public int Accepted => _server.Accepted;

    /// <summary>A server offering STARTTLS with <paramref name="certificate"/>.</summary>
    public static StartTlsSmtpServer Start(IPEndPoint endPoint, X509Certificate2 certificate) => new(endPoint, certificate);

    /// <summary>A server that does not offer STARTTLS.</summary>
    public static StartTlsSmtpServer StartWithoutTls(IPEndPoint endPoint) => new(endPoint, null);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task RunWithTlsAsync(ScriptedConnection c, X509Certificate2 certificate)
    {
        await c.ReplyAsync("220 mx.test ESMTP");
        while (true)
        {
            var line = await c.ReadLineAsync();
            if (line is null)
            {
                return;
            }

            Dialogue.Commands.Enqueue(line);
            if (line.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase))
            {
                await c.ReplyAsync(EhloWithStartTls);
            }
            else if (line.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase))
            {
                await c.ReplyAsync("220 2.0.0 Ready to start TLS");
                try
                {
                    await c.StartTlsAsServerAsync(certificate);
                }
                catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or System.IO.IOException)
                {
                    return; // the client refused the certificate and closed: nothing more comes
                }

                Handshakes++;
                await Dialogue.RunAfterGreetingAsync(c);
                return;
            }
            else if (line.Equals("QUIT", StringComparison.OrdinalIgnoreCase))
            {
                await c.ReplyAsync("221 2.0.0 Bye");
                return;
            }
            else
            {
                // Nothing but EHLO and STARTTLS before TLS: a client sending MAIL here would be sending in plaintext.
                await c.ReplyAsync("530 5.7.0 Must issue a STARTTLS command first");
            }
        }
    }
}
