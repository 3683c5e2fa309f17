using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using DirectMail.Tests.Delivery;
using DnsClient;

namespace DirectMail.Tests.Cli;

/// <summary>
/// NSD serving one zone on one loopback address, in the foreground as a child process, as DeliveryDnsFixture starts it.
/// (To be replaced by Infrastructure/NsdServer once the test-infrastructure cleanup is on main.)
/// </summary>
internal sealed class NsdProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    public NsdProcess(IPEndPoint endPoint, string zone, string zoneText)
    {
        var nsd = DeliveryDnsFixture.FindExecutable("nsd")
            ?? throw new InvalidOperationException("The CLI tests need NSD (apt-get install nsd; .ci/run does this).");
        _directory = Directory.CreateTempSubdirectory("directmail-cli-nsd-").FullName;
        File.WriteAllText(Path.Combine(_directory, zone + ".zone"), zoneText + "\n");
        var config = Path.Combine(_directory, "nsd.conf");
        File.WriteAllText(config, $"""
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
            zone:
              name: "{zone}"
              zonefile: "{zone}.zone"

            """);

        var start = new ProcessStartInfo(nsd) { ArgumentList = { "-d", "-c", config }, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{nsd} did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            WaitUntilAnswering(endPoint, zone);
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

    private void WaitUntilAnswering(IPEndPoint endPoint, string zone)
    {
        var client = new LookupClient(new LookupClientOptions(endPoint) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 });
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"NSD exited with code {_process.ExitCode} before answering on {endPoint}.\n{_output}");
            }

            try
            {
                if (client.Query(zone, QueryType.SOA) is { HasError: false, Answers.Count: > 0 })
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

        throw new InvalidOperationException($"NSD did not answer on {endPoint} within 15 seconds.\n{_output}");
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
