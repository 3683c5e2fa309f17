using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using DnsClient;

namespace DirectMail.Tests.Infrastructure;

/// <summary>A zone for <see cref="NsdServer"/>: its name and the text of its zone file (written by <c>ZoneBuilder</c>, mostly).</summary>
public sealed record NsdZone(string Name, string Text);

/// <summary>
/// NSD (Debian package <c>nsd</c>), the authoritative name server from NLnet Labs, serving the given zones on one
/// address and port: configuration and zone files are written to a temporary directory, the server runs in the
/// foreground as a child process, and the constructor returns once it answers. Dispose kills it and deletes the
/// directory. Nothing here leaves the address given. Used by the DNS and delivery tests and (linked) by the benchmarks,
/// so it holds no test-framework types.
/// </summary>
public sealed class NsdServer : IDisposable
{
    private readonly string _directory;
    private readonly ChildProcess _process;

    /// <param name="endPoint">Where NSD listens (UDP and TCP).</param>
    /// <param name="zones">The zones, written as NAME.zone.</param>
    /// <param name="readyWhenAnswering">
    /// The names whose SOA must be answered before the server counts as started; every zone's by default (give fewer
    /// when a zone is deliberately broken).
    /// </param>
    public NsdServer(IPEndPoint endPoint, IReadOnlyList<NsdZone> zones, IReadOnlyList<string>? readyWhenAnswering = null)
    {
        var nsd = ChildProcess.FindExecutable("nsd")
            ?? throw new InvalidOperationException("NSD, the authoritative name server from NLnet Labs, is not installed: apt-get install nsd (.ci/run does this).");

        EndPoint = endPoint;
        _directory = Directory.CreateTempSubdirectory("directmail-nsd-").FullName;
        var config = new StringBuilder($"""
            server:
              ip-address: {endPoint.Address}@{endPoint.Port}
              port: {endPoint.Port}
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

            """);
        foreach (var zone in zones)
        {
            File.WriteAllText(Path.Combine(_directory, zone.Name + ".zone"), zone.Text);
            config.Append($"zone:\n  name: \"{zone.Name}\"\n  zonefile: \"{zone.Name}.zone\"\n");
        }

        var configFile = Path.Combine(_directory, "nsd.conf");
        File.WriteAllText(configFile, config.ToString());
        _process = new ChildProcess(nsd, ["-d", "-c", configFile]);
        try
        {
            WaitUntilAnswering(readyWhenAnswering ?? zones.Select(z => z.Name).ToArray());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint { get; }

    public void Dispose()
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

    private void WaitUntilAnswering(IReadOnlyList<string> names)
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
                if (names.All(name => client.Query(name, QueryType.SOA) is { HasError: false, Answers.Count: > 0 }))
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
        return _process.Output + (File.Exists(log) ? File.ReadAllText(log) : string.Empty);
    }
}
