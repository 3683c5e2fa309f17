using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using DnsClient;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// The delivery tests' own authoritative DNS server: NSD on 127.0.53.25 port 10053 serving the zones
/// <c>deliver.test</c> and <c>elsewhere.test</c> (<c>Delivery/zones</c>), whose MX hosts are addresses of 127.0.26.0/24.
/// One NSD serves the whole test run: every fixture instance takes a reference and the last one to be disposed stops
/// it, so collections that run one after the other (or side by side) share it and never fight over the port.
/// </summary>
public sealed class DeliveryDnsFixture : IDisposable
{
    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.25");

    public const int Port = 10053;

    public static readonly IPEndPoint EndPoint = new(Address, Port);

    /// <summary>The value for <c>DirectMailOptions.NameServers</c>.</summary>
    public static readonly string NameServer = $"{Address}:{Port}";

    private static readonly string[] Zones = ["deliver.test", "elsewhere.test"];
    private static readonly object Gate = new();
    private static NsdProcess? _shared;
    private static int _references;

    private bool _disposed;

    public DeliveryDnsFixture()
    {
        lock (Gate)
        {
            _shared ??= new NsdProcess();
            _references++;
        }
    }

    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (--_references == 0)
            {
                _shared?.Dispose();
                _shared = null;
            }
        }
    }

    private sealed class NsdProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly string _directory;

        public NsdProcess()
        {
            var nsd = FindExecutable("nsd")
                ?? throw new InvalidOperationException("The delivery tests need NSD (apt-get install nsd; .ci/run does this).");

            _directory = Directory.CreateTempSubdirectory("directmail-delivery-nsd-").FullName;
            var zones = Path.Combine(AppContext.BaseDirectory, "Delivery", "zones");
            var zoneConfig = new StringBuilder();
            foreach (var zone in Zones)
            {
                File.Copy(Path.Combine(zones, zone + ".zone"), Path.Combine(_directory, zone + ".zone"));
                zoneConfig.Append($"zone:\n  name: \"{zone}\"\n  zonefile: \"{zone}.zone\"\n");
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

                """ + zoneConfig);

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

            try
            {
                WaitUntilAnswering();
            }
            catch
            {
                Dispose();
                throw;
            }
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
                    throw new InvalidOperationException($"NSD exited with code {_process.ExitCode} before answering on {EndPoint} (is another NSD still holding the port?).\n{Log()}");
                }

                try
                {
                    var ready = true;
                    foreach (var zone in Zones)
                    {
                        var response = client.Query(zone, QueryType.SOA);
                        ready &= !response.HasError && response.Answers.Count > 0;
                    }

                    if (ready)
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

            throw new InvalidOperationException($"NSD did not answer on {EndPoint} within 15 seconds.\n{Log()}");
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
    }

    internal static string? FindExecutable(string name)
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
