using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using DnsClient;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// Unbound (Debian package <c>unbound</c>), the validating recursive resolver from NLnet Labs, on one address and port:
/// each stub zone is asked of the given authoritative server (NSD), and answers are DNSSEC-validated against the trust
/// anchors given (DS records), so that secure answers carry the AD bit, bogus ones become SERVFAIL and names under no
/// anchor, or under an unsigned delegation, come back without AD. The configuration lives in a temporary directory;
/// the server runs in the foreground as a child process, and the constructor returns once it answers. Nothing here
/// leaves the addresses given (no root hints are reachable: the tests run on loopback only).
/// </summary>
public sealed class UnboundServer : IDisposable
{
    private readonly string _directory;
    private readonly ChildProcess _process;

    /// <param name="endPoint">Where unbound listens (UDP and TCP).</param>
    /// <param name="trustAnchors">DS (or DNSKEY) records, one line each, as <c>trust-anchor:</c> takes them.</param>
    /// <param name="stubZones">Zones asked of an authoritative server directly: name and server.</param>
    /// <param name="readyWhenValidated">A name whose SOA must come back validated (AD) before the server counts as started.</param>
    public UnboundServer(IPEndPoint endPoint, IReadOnlyList<string> trustAnchors, IReadOnlyList<(string Zone, IPEndPoint Server)> stubZones, string readyWhenValidated)
    {
        var unbound = ChildProcess.FindExecutable("unbound")
            ?? throw new InvalidOperationException("unbound, the validating resolver from NLnet Labs, is not installed: apt-get install unbound (tests/run does this).");

        EndPoint = endPoint;
        _directory = Directory.CreateTempSubdirectory("directmail-unbound-").FullName;

        // "test." is one of unbound's default local zones (RFC 6761 names answered NXDOMAIN locally): nodefault lets the
        // test zones through. do-not-query-localhost: no, or unbound would refuse to ask NSD on 127.0.0.0/8.
        var config = new StringBuilder($"""
            server:
              interface: {endPoint.Address}@{endPoint.Port}
              port: {endPoint.Port}
              do-ip6: no
              do-daemonize: no
              username: ""
              chroot: ""
              directory: "{_directory}"
              pidfile: "{_directory}/unbound.pid"
              use-syslog: no
              logfile: ""
              verbosity: 1
              val-log-level: 2
              ede: yes
              num-threads: 1
              outgoing-range: 64
              so-reuseport: no
              access-control: 127.0.0.0/8 allow
              do-not-query-localhost: no
              local-zone: "test." nodefault
              module-config: "validator iterator"
              qname-minimisation: no
              prefetch: no

            """);
        foreach (var anchor in trustAnchors)
        {
            config.Append($"  trust-anchor: \"{anchor.Trim()}\"\n");
        }

        foreach (var (zone, server) in stubZones)
        {
            config.Append($"stub-zone:\n  name: \"{zone}\"\n  stub-addr: {server.Address}@{server.Port}\n");
        }

        var configFile = Path.Combine(_directory, "unbound.conf");
        File.WriteAllText(configFile, config.ToString());
        _process = new ChildProcess(unbound, ["-d", "-c", configFile]);
        try
        {
            WaitUntilValidating(readyWhenValidated);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>What unbound wrote (its validation failures at val-log-level 2 say why an answer was bogus).</summary>
    public string Output => _process.Output;

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

    private void WaitUntilValidating(string name)
    {
        var client = new LookupClient(new LookupClientOptions(EndPoint) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(500), Retries = 0, RequestDnsSecRecords = true, ThrowDnsErrors = false });
        var deadline = Stopwatch.StartNew();
        string last = "no answer";
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"unbound exited with code {_process.ExitCode} before answering on {EndPoint}.\n{_process.Output}");
            }

            try
            {
                var response = client.Query(name, QueryType.SOA);
                if (response.Header.ResponseCode == DnsHeaderResponseCode.NoError && response.Header.IsAuthenticData)
                {
                    return;
                }

                last = $"{response.Header.ResponseCode}, AD {response.Header.IsAuthenticData}";
            }
            catch (DnsResponseException)
            {
                // Not listening yet.
            }

            Thread.Sleep(50);
        }

        throw new InvalidOperationException($"unbound did not answer {name} SOA validated on {EndPoint} within 15 seconds (last: {last}).\n{_process.Output}");
    }
}
