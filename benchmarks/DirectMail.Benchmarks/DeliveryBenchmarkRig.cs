using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace DirectMail.Benchmarks;

/// <summary>
/// What <see cref="DeliveryBenchmarks"/> runs against, all on loopback: NSD on 127.0.53.25 port 10054 (the delivery
/// tests use 10053) serving the zone <c>deliverbench.test</c>, whose 100 domains d00 … d99 each have one MX host
/// pointing at 127.0.26.200; and Postfix's <c>smtp-sink</c> listening on 127.0.26.200 port 10025.
/// </summary>
internal sealed class DeliveryBenchmarkRig : IDisposable
{
    public const int Domains = 100;
    public const int Port = 10025;
    public const string Zone = "deliverbench.test";

    public static readonly IPEndPoint NameServer = new(IPAddress.Parse("127.0.53.25"), 10054);
    public static readonly IPEndPoint Sink = new(IPAddress.Parse("127.0.26.200"), Port);

    private readonly string _directory;
    private readonly Process _nsd;
    private readonly Process _sink;

    public DeliveryBenchmarkRig()
    {
        _directory = Directory.CreateTempSubdirectory("directmail-delivery-bench-").FullName;
        var zone = new StringBuilder($"""
            $ORIGIN {Zone}.
            $TTL 3600
            @    SOA  ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 3600
            @    NS   ns.{Zone}.
            ns   A    {NameServer.Address}

            """);
        for (var i = 0; i < Domains; i++)
        {
            zone.Append(Domain(i)[..3]).Append(" MX 10 mx.").Append(Domain(i)[..3]).Append('\n');
            zone.Append("mx.").Append(Domain(i)[..3]).Append(" A ").Append(Sink.Address).Append('\n');
        }

        File.WriteAllText(Path.Combine(_directory, "zone"), zone.ToString());
        var config = Path.Combine(_directory, "nsd.conf");
        File.WriteAllText(config, $"""
            server:
              ip-address: {NameServer.Address}@{NameServer.Port}
              port: {NameServer.Port}
              do-ip6: no
              username: ""
              chroot: ""
              zonesdir: "{_directory}"
              database: ""
              pidfile: "{_directory}/nsd.pid"
              logfile: "{_directory}/nsd.log"
              xfrdfile: "{_directory}/xfrd.state"
              zonelistfile: "{_directory}/zone.list"
              server-count: 1
              verbosity: 1
            remote-control:
              control-enable: no
            zone:
              name: "{Zone}"
              zonefile: "zone"
            """);

        _nsd = Start("/usr/sbin/nsd", "-d", "-c", config);
        _sink = Start("/usr/sbin/smtp-sink", "-u", "nobody", "-h", "sink." + Zone, $"{Sink.Address}:{Sink.Port}", "1000");
        WaitFor(() => Answers(), "NSD on " + NameServer);
        WaitFor(() => Greets(), "smtp-sink on " + Sink);
    }

    /// <summary>The i-th recipient domain: d00.deliverbench.test … d99.deliverbench.test.</summary>
    public static string Domain(int i) => $"d{i % Domains:D2}.{Zone}";

    public void Dispose()
    {
        Stop(_sink);
        Stop(_nsd);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Runs Postfix's <c>smtp-source</c> against the sink and returns the elapsed time; with <paramref name="reuse"/>
    /// (<c>-d</c>) each session sends all its messages over one connection, else it reconnects for every message.
    /// </summary>
    public static TimeSpan SmtpSource(int sessions, int messages, int size, bool reuse)
    {
        var clock = Stopwatch.StartNew();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string[] arguments = ["-s", sessions.ToString(inv), "-m", messages.ToString(inv), "-l", size.ToString(inv), "-f", "sender@bench.directmail.test", "-t", "recipient@" + Domain(0), $"{Sink.Address}:{Sink.Port}"];
        using var process = Start("/usr/sbin/smtp-source", reuse ? ["-d", .. arguments] : arguments);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"smtp-source exited with {process.ExitCode}.");
        }

        return clock.Elapsed;
    }

    private static Process Start(string file, params string[] arguments)
    {
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{file} is missing: apt-get install nsd postfix (.ci/run does this).");
        }

        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException(file + " did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process.Dispose();
    }

    private static void WaitFor(Func<bool> ready, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (ready())
            {
                return;
            }

            Thread.Sleep(50);
        }

        throw new InvalidOperationException(what + " did not start (is a previous run still holding the port?).");
    }

    private static bool Answers()
    {
        try
        {
            var client = new DnsClient.LookupClient(new DnsClient.LookupClientOptions(NameServer) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 });
            return client.Query(Domain(0), DnsClient.QueryType.MX).Answers.Count > 0;
        }
        catch (DnsClient.DnsResponseException)
        {
            return false;
        }
    }

    private static bool Greets()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 1000 };
            socket.Connect(Sink);
            var buffer = new byte[256];
            var read = socket.Receive(buffer);
            socket.Send("QUIT\r\n"u8);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("220", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
