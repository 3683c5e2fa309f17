using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Routing;

/// <summary>
/// <c>oauth_relay_server.py</c> (aiosmtpd) as a child process on one loopback address, port <see cref="Port"/>: a
/// submission relay taking XOAUTH2 and OAUTHBEARER tokens after STARTTLS (or, stripped, offering AUTH without
/// STARTTLS). What it received is read back from its store: every command's verb per connection, every AUTH exactly as
/// sent, every message exactly as stored. Killed on dispose.
/// </summary>
public sealed class OAuthRelayServer : IDisposable
{
    public const int Port = 10587;

    public const string User = "app@client.test";

    private readonly ChildProcess _process;

    /// <param name="address">Where it listens.</param>
    /// <param name="validTokens">The tokens it accepts for <see cref="User"/>.</param>
    /// <param name="startTls">False for a relay that does not offer STARTTLS and offers AUTH in plaintext.</param>
    /// <param name="certificate">The certificate it presents; <see cref="TestCertificates.SelfSigned"/> by default.</param>
    /// <param name="requireTls">True for a relay that offers REQUIRETLS (RFC 8689) after STARTTLS and takes its MAIL FROM parameter.</param>
    public OAuthRelayServer(IPAddress address, string[] validTokens, bool startTls = true, X509Certificate2? certificate = null, bool requireTls = false)
    {
        Address = address;
        Store = Directory.CreateTempSubdirectory("directmail-oauth-relay-").FullName;
        var arguments = new List<string>
        {
            Path.Combine(AppContext.BaseDirectory, "Routing", "oauth_relay_server.py"),
            "--host", address.ToString(), "--port", Port.ToString(CultureInfo.InvariantCulture), "--store", Store, "--user", User,
        };
        if (startTls)
        {
            certificate ??= TestCertificates.SelfSigned;
            var cert = Path.Combine(Store, "cert.pem");
            var key = Path.Combine(Store, "key.pem");
            File.WriteAllText(cert, certificate.ExportCertificatePem());
            File.WriteAllText(key, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            arguments.AddRange(["--tls", "starttls", "--cert", cert, "--key", key]);
        }
        else
        {
            arguments.AddRange(["--tls", "none"]);
        }

        if (requireTls)
        {
            arguments.Add("--requiretls");
        }

        foreach (var token in validTokens)
        {
            arguments.AddRange(["--valid-token", token]);
        }

        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; // Debian's, which has aiosmtpd
        _process = new ChildProcess(python, [.. arguments]);
        _process.WaitForOutput("ready", TimeSpan.FromSeconds(15), "the OAuth relay (python3-aiosmtpd)");
    }

    public IPAddress Address { get; }

    public string Store { get; }

    /// <summary>The relay's host as <c>DirectMail:Relays:*:Hosts</c> takes it.</summary>
    public string Host => $"{Address}:{Port}";

    /// <summary>One AUTH command as the relay read it.</summary>
    public sealed record AuthRecord(int Connection, string Mechanism, byte[] Initial, string? User, string? Token, bool Accepted, byte[]? ErrorResponse);

    /// <summary>One message the relay stored: envelope, the user its connection authenticated as, and the content as received.</summary>
    public sealed record RelayedMessage(string Sender, IReadOnlyList<string> Recipients, string? AuthUser, int Connection, byte[] Content);

    /// <summary>Every command's verb, in order, with its connection's number (and <c>&lt;closed&gt;</c> when a connection ended).</summary>
    public IReadOnlyList<(int Connection, string Verb)> Commands() => Lines("commands.log")
        .Select(l => l.Split(' ', 2))
        .Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), p[1]))
        .ToList();

    /// <summary>Every MAIL command as received, <c>MAIL </c> and its argument exactly as the client sent it.</summary>
    public IReadOnlyList<string> MailCommands() => Lines("mail.log").Select(l => "MAIL " + l.Split(' ', 2)[1]).ToList();

    public IReadOnlyList<AuthRecord> Auths() => Lines("auth.log").Select(l =>
    {
        using var json = JsonDocument.Parse(l);
        var e = json.RootElement;
        return new AuthRecord(
            e.GetProperty("connection").GetInt32(),
            e.GetProperty("mechanism").GetString()!,
            Convert.FromBase64String(e.GetProperty("initial").GetString()!),
            e.GetProperty("user").GetString(),
            e.GetProperty("token").GetString(),
            e.GetProperty("accepted").GetBoolean(),
            e.GetProperty("error_response").GetString() is { } answer ? Convert.FromBase64String(answer) : null);
    }).ToList();

    public IReadOnlyList<RelayedMessage> Messages()
    {
        var list = new List<RelayedMessage>();
        foreach (var eml in Directory.GetFiles(Store, "*.eml").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture)))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(eml, ".json")));
            var e = json.RootElement;
            list.Add(new RelayedMessage(
                e.GetProperty("mail_from").GetString()!,
                e.GetProperty("rcpt_tos").EnumerateArray().Select(r => r.GetString()!).ToList(),
                e.GetProperty("auth_user").GetString(),
                e.GetProperty("connection").GetInt32(),
                File.ReadAllBytes(eml)));
        }

        return list;
    }

    /// <summary>Waits (bounded) until <paramref name="connections"/> connections have ended, so that nothing more can arrive on them.</summary>
    public async Task WaitForClosedAsync(int connections)
    {
        for (var i = 0; i < 500; i++)
        {
            if (Commands().Count(c => c.Verb == "<closed>") >= connections)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"The OAuth relay did not see {connections} connection(s) end:\n{string.Join("\n", Lines("commands.log"))}\n{_process.Output}");
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(Store, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string[] Lines(string name)
    {
        var path = Path.Combine(Store, name);
        return File.Exists(path) ? File.ReadAllLines(path, Encoding.UTF8) : [];
    }
}
