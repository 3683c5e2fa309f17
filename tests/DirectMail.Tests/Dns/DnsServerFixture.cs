using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using DirectMail.Dns;
using DnsClient;

namespace DirectMail.Tests.Dns;

/// <summary>
/// A real authoritative DNS server for the MX tests: NSD (Debian package <c>nsd</c>) on 127.0.53.1 port 10053, serving
/// the zone <c>dm.test</c> from <c>Dns/zones/dm.test.zone</c> and a deliberately broken zone <c>servfail.dm.test</c>
/// (NSD answers SERVFAIL for it; names outside both zones get REFUSED). Configuration and zones are written to a
/// temporary directory; the server runs in the foreground as a child process and is killed on dispose. Nothing here
/// leaves the loopback interface.
/// </summary>
public sealed class DnsServerFixture : IDisposable
{
    public const string Zone = "dm.test";

    /// <summary>The test addresses live in 127.0.53.0/24; other suites use other ranges.</summary>
    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.1");

    public const int Port = 10053;

    public static readonly IPEndPoint EndPoint = new(Address, Port);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _directory;

    public DnsServerFixture()
    {
        var nsd = FindExecutable("nsd")
            ?? throw new InvalidOperationException("The DNS tests need NSD, the authoritative name server from NLnet Labs, and it is not installed: apt-get install nsd (.ci/run does this).");

        _directory = Directory.CreateTempSubdirectory("directmail-nsd-").FullName;
        var zones = Path.Combine(AppContext.BaseDirectory, "Dns", "zones");
        foreach (var file in new[] { "dm.test.zone", "servfail.dm.test.zone" })
        {
            File.Copy(Path.Combine(zones, file), Path.Combine(_directory, file));
        }

        var config = Path.Combine(_directory, "nsd.conf");
        File.WriteAllText(config, $"""
            server:
              ip-address: {Address}@{Port}
              port: {Port}
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
              hide-version: yes
            remote-control:
              control-enable: no
            zone:
              name: "{Zone}"
              zonefile: "dm.test.zone"
            zone:
              name: "servfail.{Zone}"
              zonefile: "servfail.dm.test.zone"
            """);

        var start = new ProcessStartInfo(nsd)
        {
            ArgumentList = { "-d", "-c", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{nsd} did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        WaitUntilAnswering();
    }

    /// <summary>Options that ask this server only (never the system resolver), with short timeouts.</summary>
    public static MxResolverOptions Options(Action<MxResolverOptions>? configure = null)
    {
        var options = new MxResolverOptions
        {
            NameServers = [EndPoint],
            QueryTimeout = TimeSpan.FromSeconds(2),
            Retries = 1,
        };
        configure?.Invoke(options);
        return options;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A temporary directory left behind is harmless.
            }
        }
    }

    private void WaitUntilAnswering()
    {
        var client = new LookupClient(new LookupClientOptions(EndPoint) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 });
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"NSD exited with code {_process.ExitCode} before answering on {Address} port {Port} (is another NSD still holding the port?).\n{Log()}");
            }

            try
            {
                var response = client.Query(Zone, QueryType.SOA);
                if (!response.HasError && response.Answers.Count > 0)
                {
                    return;
                }
            }
            catch (DnsResponseException)
            {
                // Not listening yet.
            }

            Thread.Sleep(50);
        }

        throw new InvalidOperationException($"NSD did not answer on {Address} port {Port} within 15 seconds.\n{Log()}");
    }

    private string Log()
    {
        var log = Path.Combine(_directory, "nsd.log");
        lock (_output)
        {
            return _output + (File.Exists(log) ? File.ReadAllText(log) : string.Empty);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static string? FindExecutable(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in (path + ":/usr/sbin:/usr/local/sbin:/sbin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

[CollectionDefinition(Name)]
public sealed class DnsServerCollection : ICollectionFixture<DnsServerFixture>
{
    public const string Name = "DNS server (NSD on 127.0.53.1:10053)";
}
