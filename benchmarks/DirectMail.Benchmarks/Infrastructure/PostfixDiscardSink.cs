using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>
/// A private Postfix <c>smtpd</c> that offers PIPELINING and CHUNKING (BDAT, on by default since Postfix 3.4) and throws
/// every message away with the discard transport: a sink for benchmarks that want a real MTA's CHUNKING, where
/// <see cref="SmtpSink"/> (<c>smtp-sink</c>) offers DATA only.
/// </summary>
/// <remarks>
/// Like the tests' <c>PostfixFixture</c> (whose files hold xunit types, so they are not linked here), everything is in
/// one directory of its own: <c>/dev/shm</c> when there is one, so the queue files Postfix writes and fsyncs for every
/// accepted message cost no disk flush (the sink should not be what limits a benchmark), else the temporary directory.
/// It is started with <c>postfix -c DIR/etc start-fg</c> under a supervisor that runs <c>postfix stop</c> when its
/// standard input closes: on <see cref="Dispose"/>, or when the benchmark process dies. Every recipient is accepted from
/// loopback clients (<c>mynetworks</c>) and delivered to <c>discard:</c>; nothing leaves. Postfix's flow control
/// (<c>in_flow_delay</c>) and per-client limits are off, so it does not slow a fast client down. Needs root.
/// </remarks>
public sealed class PostfixDiscardSink : IDisposable
{
    private const string PostfixCommand = "/usr/sbin/postfix";
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(45);

    private readonly string _root;
    private readonly Process _supervisor;
    private readonly StringBuilder _output = new();

    private PostfixDiscardSink(IPEndPoint endPoint, string hostName)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(PostfixCommand) || !File.Exists(Python))
        {
            throw new InvalidOperationException($"The Postfix sink needs Linux, {PostfixCommand} (apt-get install postfix) and {Python}.");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("Postfix's master must run as root; run the latency benchmark as root.");
        }

        EndPoint = endPoint;
        var parent = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _root = Path.Combine(parent, "directmail-bench-postfix-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);

        // Postfix's daemons (user postfix) must reach into the directory.
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        var etc = Directory.CreateDirectory(Path.Combine(_root, "etc")).FullName;
        Directory.CreateDirectory(Path.Combine(_root, "queue"));
        Write(Path.Combine(etc, "main.cf"), MainCf(_root, hostName));
        Write(Path.Combine(etc, "master.cf"), MasterCf(endPoint));
        var supervisor = Path.Combine(_root, "supervisor.py");
        Write(supervisor, DirectMail.Tests.Infrastructure.Postfix.PostfixSupervisor.Script);

        var start = new ProcessStartInfo(Python)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(supervisor);
        start.ArgumentList.Add(etc);
        _supervisor = new Process { StartInfo = start };
        _supervisor.OutputDataReceived += (_, e) => Collect(e.Data);
        _supervisor.ErrorDataReceived += (_, e) => Collect(e.Data);
        _supervisor.Start();
        _supervisor.BeginOutputReadLine();
        _supervisor.BeginErrorReadLine();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Postfix's log so far.</summary>
    public string Log
    {
        get
        {
            var path = Path.Combine(_root, "maillog");
            if (!File.Exists(path))
            {
                return string.Empty;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
    }

    /// <summary>
    /// Starts the instance on <paramref name="endPoint"/>, waits until it greets with 220, and checks that its EHLO
    /// reply offers PIPELINING and CHUNKING.
    /// </summary>
    public static PostfixDiscardSink Start(IPEndPoint endPoint, string hostName)
    {
        var sink = new PostfixDiscardSink(endPoint, hostName);
        try
        {
            var deadline = DateTime.UtcNow + StartTimeout;
            string? ehlo;
            while ((ehlo = Ehlo(endPoint)) is null)
            {
                if (sink._supervisor.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Postfix did not greet on {endPoint} within {StartTimeout} (is the port in use?).\n{sink.Output()}\nLog:\n{sink.Log}");
                }

                Thread.Sleep(100);
            }

            if (!Offers(ehlo, "PIPELINING") || !Offers(ehlo, "CHUNKING"))
            {
                throw new InvalidOperationException($"Postfix's EHLO reply does not offer both PIPELINING and CHUNKING:\n{ehlo}");
            }

            return sink;
        }
        catch
        {
            sink.Dispose();
            throw;
        }
    }

    /// <summary>How many messages wait in the queue (incoming, active, deferred, hold): with the discard transport, none for long.</summary>
    public int Queued()
    {
        var count = 0;
        foreach (var queue in new[] { "maildrop", "incoming", "active", "deferred", "hold" })
        {
            var path = Path.Combine(_root, "queue", queue);
            if (Directory.Exists(path))
            {
                count += Directory.GetFiles(path, "*", SearchOption.AllDirectories).Length;
            }
        }

        return count;
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until the queue is empty; throws when mail was deferred or stays queued.</summary>
    public void WaitUntilQueueEmpty(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        int queued;
        while ((queued = Queued()) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                var deferred = Log.Split('\n').Where(l => l.Contains("status=deferred", StringComparison.Ordinal)).Take(5);
                throw new InvalidOperationException($"Postfix's queue still holds {queued} messages after {timeout}: {string.Join("\n", deferred)}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>The EHLO reply of a connection to <paramref name="endPoint"/> (greeting read first), or null when it does not answer 220.</summary>
    public static string? Ehlo(IPEndPoint endPoint)
    {
        try
        {
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 2000 };
            socket.Connect(endPoint);
            var greeting = ReadReply(socket);
            if (!greeting.StartsWith("220", StringComparison.Ordinal))
            {
                return null;
            }

            socket.Send("EHLO probe.directmail.test\r\n"u8);
            var ehlo = ReadReply(socket);
            socket.Send("QUIT\r\n"u8);
            return ehlo.StartsWith("250", StringComparison.Ordinal) ? ehlo : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>True when the EHLO reply has the keyword on a line of its own (<c>250-CHUNKING</c>, <c>250 CHUNKING</c>).</summary>
    public static bool Offers(string ehlo, string keyword) =>
        ehlo.Split("\r\n").Any(line => line.Length > 4 && line[4..].Split(' ')[0].Equals(keyword, StringComparison.OrdinalIgnoreCase));

    public void Dispose()
    {
        try
        {
            // End of input tells the supervisor to run "postfix stop" and reap every daemon.
            _supervisor.StandardInput.Close();
            if (!_supervisor.WaitForExit(StopTimeout))
            {
                _supervisor.Kill(entireProcessTree: true);
                _supervisor.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _supervisor.Dispose();
        }

        // DIRECTMAIL_KEEP_POSTFIX=1 keeps the directory (configuration, log) for a look after the run.
        if (Directory.Exists(_root) && Environment.GetEnvironmentVariable("DIRECTMAIL_KEEP_POSTFIX") != "1")
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string ReadReply(Socket socket)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            var read = socket.Receive(buffer);
            if (read == 0)
            {
                return text.ToString();
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            var lines = text.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

            // A reply is complete at a line "NNN text" (no hyphen) ending in CRLF.
            if (text.ToString().EndsWith("\r\n", StringComparison.Ordinal) && lines[^1].Length >= 4 && lines[^1][3] == ' ')
            {
                return text.ToString();
            }
        }
    }

    private static string MainCf(string root, string hostName) => string.Create(CultureInfo.InvariantCulture, $"""
        # Written by the DirectMail benchmarks; see PostfixDiscardSink.
        compatibility_level = 3.6
        queue_directory = {root}/queue
        data_directory = {root}/data
        maillog_file = {root}/maillog
        maillog_file_prefixes = {root}

        # smtpd listens only where master.cf says; loopback-only keeps every other service off the network.
        inet_interfaces = loopback-only
        inet_protocols = ipv4
        myhostname = {hostName}
        mydestination =
        mynetworks = 127.0.0.0/8
        smtpd_banner = $myhostname ESMTP Postfix (DirectMail benchmark sink)

        # Every message is thrown away: whatever the recipient, the discard transport; nothing leaves, no DNS.
        relayhost =
        default_transport = discard:benchmark sink
        relay_transport = discard:benchmark sink
        local_transport = discard:benchmark sink
        virtual_transport = discard:benchmark sink
        smtp_dns_support_level = disabled
        smtpd_peername_lookup = no
        alias_maps =
        alias_database =
        biff = no
        notify_classes =
        smtpd_relay_restrictions = permit_mynetworks, reject
        smtpd_recipient_restrictions =
        smtputf8_enable = no

        # CHUNKING and PIPELINING are on by default; nothing is taken out of the EHLO reply.
        smtpd_discard_ehlo_keywords =

        # The sink must not be what limits a benchmark: no flow-control pause when the queue manager falls behind,
        # no per-client connection or rate limits (every connection comes from the relay, one address), many smtpd.
        in_flow_delay = 0s
        default_process_limit = 500
        smtpd_client_connection_count_limit = 0
        smtpd_client_connection_rate_limit = 0
        smtpd_client_message_rate_limit = 0
        smtpd_client_recipient_rate_limit = 0

        """);

    private static string MasterCf(IPEndPoint endPoint) => string.Create(CultureInfo.InvariantCulture, $"""
        # service type  private unpriv  chroot  wakeup  maxproc command
        {endPoint.Address}:{endPoint.Port} inet n - n - - smtpd
        pickup    unix  n       -       n       60      1       pickup
        cleanup   unix  n       -       n       -       0       cleanup
        qmgr      unix  n       -       n       300     1       qmgr
        rewrite   unix  -       -       n       -       -       trivial-rewrite
        bounce    unix  -       -       n       -       0       bounce
        defer     unix  -       -       n       -       0       bounce
        trace     unix  -       -       n       -       0       bounce
        verify    unix  -       -       n       -       1       verify
        flush     unix  n       -       n       1000?   0       flush
        proxymap  unix  -       -       n       -       -       proxymap
        error     unix  -       -       n       -       -       error
        retry     unix  -       -       n       -       -       error
        discard   unix  -       -       n       -       -       discard
        anvil     unix  -       -       n       -       1       anvil
        scache    unix  -       -       n       -       1       scache
        postlog   unix-dgram n  -       n       -       1       postlogd

        """);

    private static void Write(string path, string text) => File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal));

    private void Collect(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }
}
