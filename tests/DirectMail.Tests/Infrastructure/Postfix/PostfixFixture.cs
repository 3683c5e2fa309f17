using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Routing;
using DirectMail.Smtp;

namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>The tests that share one private Postfix instance; xunit runs them one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class PostfixCollection : ICollectionFixture<PostfixFixture>
{
    public const string Name = "Postfix";
}

/// <summary>
/// A private Postfix instance from the Debian package, on 127.0.25.10:10025, for the tests' whole collection.
/// </summary>
/// <remarks>
/// <para>
/// Everything is in one temporary directory: the configuration (<c>etc/</c>: main.cf, master.cf, the mailbox table
/// and a self-signed certificate made here), the queue, the data directory, the log and the mailboxes. It is started
/// with <c>postfix -c etc start-fg</c> under a small supervisor that stops it with <c>postfix -c etc stop</c> when
/// its standard input closes: on dispose, or when the test process dies. Postfix needs root (so does CI).
/// </para>
/// <para>
/// The instance offers PIPELINING, SIZE, 8BITMIME, SMTPUTF8, CHUNKING and STARTTLS (security level <c>may</c>). Every
/// recipient of <see cref="Domain"/> is delivered by virtual(8) into one Maildir, except <c>unknown@</c>, which is
/// refused at RCPT with 550 5.1.1. Nothing can leave it: no DNS, no relay, every other transport is <c>error</c>.
/// </para>
/// </remarks>
public sealed class PostfixFixture : IAsyncLifetime
{
    public const string Domain = "postfix.test";
    public const string HostName = "mx.postfix.test";
    public const int Port = TestAddresses.Postfix.Port;

    /// <summary>Submission with implicit TLS (as port 465) and SMTP AUTH required before RCPT.</summary>
    public const int SubmissionsPort = TestAddresses.Postfix.SubmissionsPort;

    /// <summary>Submission with STARTTLS required (as port 587) and SMTP AUTH required before RCPT.</summary>
    public const int SubmissionPort = TestAddresses.Postfix.SubmissionPort;

    /// <summary>The submission user in the fixture's sasldb (realm <see cref="HostName"/>), and its password.</summary>
    public const string RelayUser = "relayuser";

    public const string RelayPassword = "Relay-pa55word";

    /// <summary>Postfix's message_size_limit, announced as SIZE in EHLO.</summary>
    public const int MessageSizeLimit = 1_000_000;

    private const string PostfixCommand = "/usr/sbin/postfix";
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(45);
    private static readonly Regex QueuedAs = new(@"queued as ([0-9A-F]+)", RegexOptions.CultureInvariant);

    private readonly StringBuilder _supervisorOutput = new();
    private string? _root;
    private Process? _supervisor;

    public static IPAddress Address { get; } = TestAddresses.Postfix.Address;

    /// <summary>The one domain this Postfix relays (as an SMTP client), to <see cref="RelayTarget"/>: where a test's server answers.</summary>
    public const string RelayedDomain = "relayed.postfix.test";

    /// <summary>Where Postfix delivers mail for <see cref="RelayedDomain"/>.</summary>
    public static IPEndPoint RelayTarget { get; } = TestAddresses.Postfix.RelayTarget;

    public IPEndPoint EndPoint { get; } = new(Address, Port);

    /// <summary>The server's self-signed certificate (public part), for tests that pin it.</summary>
    public X509Certificate2 Certificate { get; private set; } = null!;

    public static string UnknownRecipient => PostfixConfiguration.UnknownLocalPart + "@" + Domain;

    private string Root => _root ?? throw new InvalidOperationException("The Postfix fixture is not started.");

    private string InboxNew => Path.Combine(Root, "mail", PostfixConfiguration.InboxName, "new");

    private string LogPath => Path.Combine(Root, "maillog");

    public static string Recipient(string localPart) => localPart + "@" + Domain;

    /// <summary>
    /// The submission service as a relay of the mailer: <see cref="SubmissionsPort"/> with implicit TLS or
    /// <see cref="SubmissionPort"/> with STARTTLS, <see cref="RelayUser"/>'s password, the server's certificate pinned.
    /// </summary>
    public SmtpRelayOptions SubmissionRelay(SmtpTlsMode mode)
    {
        var pinned = Certificate.GetCertHashString();
        return new SmtpRelayOptions
        {
            Hosts = { $"{Address}:{(mode == SmtpTlsMode.Implicit ? SubmissionsPort : SubmissionPort)}" },
            TlsMode = mode,
            UserName = RelayUser,
            Password = RelayPassword,
            CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
        };
    }

    /// <summary>
    /// Waits (up to 30 seconds) for smtpd's "disconnect from" lines of sessions from <paramref name="clientAddress"/>
    /// (an address only one test connects from) and returns them: each with the session's command counts.
    /// </summary>
    public async Task<string[]> WaitForSessionsFromAsync(string clientAddress)
    {
        string[] sessions = [];
        for (var i = 0; i < 600 && sessions.Length == 0; i++)
        {
            sessions = ReadLog().Split('\n').Where(l => l.Contains($"[{clientAddress}]:", StringComparison.Ordinal) && l.Contains("]: disconnect from ", StringComparison.Ordinal)).ToArray();
            await Task.Delay(50).ConfigureAwait(false);
        }

        return sessions;
    }

    public async Task InitializeAsync()
    {
        CheckPrerequisites();
        if (await AnswersAsync(EndPoint, TimeSpan.FromSeconds(1)).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"{EndPoint} is already in use before the Postfix fixture started it: an instance from an earlier run? (pgrep -a master)");
        }

        var root = Directory.CreateTempSubdirectory("directmail-postfix-").FullName;
        _root = root;

        // Postfix's daemons (user postfix) and virtual(8) (uid 65534) must reach into the directory.
        SetMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var etc = Directory.CreateDirectory(Path.Combine(root, "etc")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "queue"));
        var mail = Directory.CreateDirectory(Path.Combine(root, "mail")).FullName;
        SetMode(mail, (UnixFileMode)0b111_111_111);

        WriteCertificate(Directory.CreateDirectory(Path.Combine(etc, "tls")).FullName);
        PostfixConfiguration.Write(Path.Combine(etc, "main.cf"), PostfixConfiguration.MainCf(root, Address.ToString(), MessageSizeLimit));
        PostfixConfiguration.Write(Path.Combine(etc, "master.cf"), PostfixConfiguration.MasterCf(Address.ToString(), Port));
        PostfixConfiguration.Write(Path.Combine(etc, "vmailbox"), PostfixConfiguration.MailboxTable());
        PostfixConfiguration.Write(Path.Combine(etc, "transport"), PostfixConfiguration.TransportTable());
        WriteSasl(etc);
        var supervisor = Path.Combine(root, "supervisor.py");
        PostfixConfiguration.Write(supervisor, PostfixSupervisor.Script);

        var start = new ProcessStartInfo(Python)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(supervisor);
        start.ArgumentList.Add(etc);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.Start();
        _supervisor = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        await WaitUntilReadyAsync(process).ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        var process = _supervisor;
        if (process is not null)
        {
            try
            {
                // End of input tells the supervisor to run "postfix stop" and reap every daemon.
                process.StandardInput.Close();
                using var timeout = new CancellationTokenSource(StopTimeout);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
            finally
            {
                process.Dispose();
            }
        }

        Certificate?.Dispose();
        // DIRECTMAIL_KEEP_POSTFIX=1 keeps the directory (configuration, log, Maildir) for a look after the run.
        if (_root is not null && Directory.Exists(_root) && Environment.GetEnvironmentVariable("DIRECTMAIL_KEEP_POSTFIX") != "1")
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>
    /// Waits until Postfix has finished with the message that <paramref name="result"/> delivered (its queue file is
    /// removed) and returns what was stored for it, one Maildir file per recipient.
    /// </summary>
    public async Task<IReadOnlyList<StoredMessage>> WaitForDeliveryAsync(SmtpTransactionResult result, TimeSpan? timeout = null)
    {
        Assert.True(result.IsDelivered, $"The transaction was not delivered: {result}");
        var match = QueuedAs.Match(result.FinalReply!.Text);
        Assert.True(match.Success, $"Postfix's final reply names no queue id: {result.FinalReply}");
        var queueId = match.Groups[1].Value;

        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!ReadLog().Contains(queueId + ": removed", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Postfix did not finish with {queueId} in time. Log:\n{ReadLog()}");
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        var log = ReadLog();
        foreach (var line in log.Split('\n'))
        {
            if (line.Contains(queueId + ": to=<", StringComparison.Ordinal) && !line.Contains("status=sent", StringComparison.Ordinal))
            {
                Assert.Fail($"Postfix did not deliver {queueId}: {line}");
            }
        }

        var stored = new List<StoredMessage>();
        if (Directory.Exists(InboxNew))
        {
            foreach (var file in Directory.GetFiles(InboxNew))
            {
                var message = StoredMessage.Read(file);
                if (message.QueueId == queueId)
                {
                    stored.Add(message);
                }
            }
        }

        stored.Sort((a, b) => string.CompareOrdinal(a.DeliveredTo, b.DeliveredTo));
        return stored;
    }

    /// <summary>Waits until Postfix's queue holds no message (every one accepted is delivered or bounced).</summary>
    public async Task WaitUntilQueueEmptyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string[] queues = ["maildrop", "incoming", "active", "deferred", "hold"];
        while (true)
        {
            var waiting = 0;
            foreach (var queue in queues)
            {
                var path = Path.Combine(Root, "queue", queue);
                if (Directory.Exists(path))
                {
                    waiting += Directory.GetFiles(path, "*", SearchOption.AllDirectories).Length;
                }
            }

            if (waiting == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Postfix's queue still holds {waiting} messages after {timeout}.");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the message of <paramref name="result"/> and returns it, checking it was stored once.</summary>
    public async Task<StoredMessage> WaitForSingleDeliveryAsync(SmtpTransactionResult result)
    {
        var stored = await WaitForDeliveryAsync(result).ConfigureAwait(false);
        if (stored.Count != 1)
        {
            var files = Directory.Exists(InboxNew) ? Directory.GetFiles(InboxNew) : [];
            Assert.Fail($"Expected one stored message for \"{result.FinalReply}\", found {stored.Count} among {files.Length} files in {InboxNew}: {string.Join("\n---\n", files.Select(f => File.ReadAllText(f)))}. Log:\n{ReadLog()}");
        }

        return stored[0];
    }

    /// <summary>Every message in the Maildir so far, of every test of the collection (the queue crash tests count copies).</summary>
    public IReadOnlyList<StoredMessage> ReadInbox()
    {
        var stored = new List<StoredMessage>();
        if (Directory.Exists(InboxNew))
        {
            foreach (var file in Directory.GetFiles(InboxNew))
            {
                stored.Add(StoredMessage.Read(file));
            }
        }

        return stored;
    }

    /// <summary>
    /// Waits for smtpd's summary of the session whose client end was <paramref name="client"/>, such as
    /// "disconnect from unknown[127.0.0.1]:40000 ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5", from which it returns "ehlo=1 ... commands=5": Postfix's own count of the commands it received. The session
    /// is found by its client port (smtpd_client_port_logging), so a session of another test that ends in between is
    /// never taken for this one.
    /// </summary>
    public async Task<string> WaitForSessionSummaryAsync(IPEndPoint client)
    {
        // The client's port is reused by later sessions over the fixture's life: the session is the one after the
        // last "connect from" of this address and port, not the first "disconnect from" in the log.
        var endpoint = $"[{client.Address}]:{client.Port}";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var lines = ReadLog().Split('\n');
            var start = -1;
            for (var i = lines.Length - 1; i >= 0 && start < 0; i--)
            {
                if (lines[i].Contains("postfix/smtpd[", StringComparison.Ordinal) && lines[i].Contains("]: connect from ", StringComparison.Ordinal) && EndsWithEndpoint(lines[i], endpoint))
                {
                    start = i;
                }
            }

            for (var i = Math.Max(start, 0); start >= 0 && i < lines.Length; i++)
            {
                var at = lines[i].IndexOf(endpoint + " ", StringComparison.Ordinal);
                if (at >= 0 && lines[i].Contains("postfix/smtpd[", StringComparison.Ordinal) && lines[i].Contains("]: disconnect from ", StringComparison.Ordinal))
                {
                    return lines[i][(at + endpoint.Length + 1)..].Trim();
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"smtpd did not log the end of the session from {client} in time. Log:\n{ReadLog()}");
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        static bool EndsWithEndpoint(string line, string endpoint) => line.TrimEnd().EndsWith(endpoint, StringComparison.Ordinal);
    }

    /// <summary>Postfix's log so far (maillog_file), for assertions and failure messages.</summary>
    public string ReadLog()
    {
        if (!File.Exists(LogPath))
        {
            return string.Empty;
        }

        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static void CheckPrerequisites()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The Postfix tests run on Linux only.");
        }

        if (!File.Exists(PostfixCommand) || !File.Exists("/usr/lib/postfix/sbin/master"))
        {
            throw new InvalidOperationException($"Postfix is not installed ({PostfixCommand} is missing): apt-get install postfix (.ci/run does).");
        }

        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing; the Postfix fixture's supervisor needs it: apt-get install python3.");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("Postfix's master must run as root; run the Postfix tests as root (CI does).");
        }
    }

    /// <summary>Cyrus SASL for the submission services: smtpd.conf and a sasldb holding <see cref="RelayUser"/>, made with saslpasswd2.</summary>
    private static void WriteSasl(string etc)
    {
        var root = Path.GetDirectoryName(etc)!;
        var sasl = Directory.CreateDirectory(Path.Combine(etc, "sasl")).FullName;
        PostfixConfiguration.Write(Path.Combine(sasl, "smtpd.conf"), PostfixConfiguration.SaslSmtpdConf(root));
        const string SaslPasswd = "/usr/sbin/saslpasswd2";
        if (!File.Exists(SaslPasswd))
        {
            throw new InvalidOperationException($"{SaslPasswd} is missing; the Postfix fixture's submission services need it: apt-get install sasl2-bin (tests/run does).");
        }

        var database = Path.Combine(etc, "sasldb2");
        var start = new ProcessStartInfo(SaslPasswd) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-p", "-c", "-f", database, "-u", HostName, RelayUser })
        {
            start.ArgumentList.Add(argument);
        }

        using (var process = Process.Start(start)!)
        {
            process.StandardInput.Write(RelayPassword);
            process.StandardInput.Close();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"saslpasswd2 failed ({process.ExitCode}): {error}");
            }
        }

        // smtpd (user postfix) reads it; it holds a test password only.
        SetMode(database, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private void WriteCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + HostName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(HostName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        var keyPath = Path.Combine(directory, "key.pem");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        SetMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem() + "\n");
        Certificate = X509CertificateLoader.LoadCertificate(certificate.RawData);
    }

    private async Task WaitUntilReadyAsync(Process process)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Postfix did not start (supervisor exited with {process.ExitCode}).\n{Output()}\nLog:\n{ReadLog()}");
            }

            if (await AnswersAsync(EndPoint, TimeSpan.FromSeconds(2)).ConfigureAwait(false))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Postfix did not greet with 220 on {EndPoint} within {StartTimeout}.\n{Output()}\nLog:\n{ReadLog()}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>True when a server at <paramref name="endPoint"/> greets with 220 within <paramref name="timeout"/>.</summary>
    private static async Task<bool> AnswersAsync(IPEndPoint endPoint, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
            var buffer = new byte[512];
            var length = 0;
            while (length < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return false;
                }

                length += read;
                var text = Encoding.ASCII.GetString(buffer, 0, length);
                if (text.Contains("\r\n", StringComparison.Ordinal))
                {
                    var ready = text.StartsWith("220", StringComparison.Ordinal);
                    await socket.SendAsync("QUIT\r\n"u8.ToArray(), SocketFlags.None, cts.Token).ConfigureAwait(false);
                    return ready;
                }
            }

            return false;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_supervisorOutput)
        {
            _supervisorOutput.AppendLine(line);
        }
    }

    private string Output()
    {
        lock (_supervisorOutput)
        {
            return _supervisorOutput.ToString();
        }
    }
}
