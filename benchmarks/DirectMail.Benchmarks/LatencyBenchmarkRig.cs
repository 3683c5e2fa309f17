using System;
using System.Linq;
using System.Net;
using System.Text;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Delivery;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Benchmarks;

/// <summary>The sink behind <see cref="LatencyBenchmarkRig"/>'s relay.</summary>
public enum LatencySink
{
    /// <summary>Postfix's <c>smtp-sink</c>: PIPELINING, DATA only (no CHUNKING).</summary>
    DataOnly,

    /// <summary>A private Postfix <c>smtpd</c> with the discard transport: PIPELINING and CHUNKING.</summary>
    Chunking,
}

/// <summary>
/// What <see cref="LatencyBenchmarks"/> runs against, all on loopback 127.0.46.0/24 (used by nothing else): NSD
/// (<see cref="NsdServer"/>) on 127.0.46.53 port 10056 serving the zone <c>latency.test</c>, whose 100 domains
/// d00 … d99 all have the one MX host <c>mx.latency.test</c> at 127.0.46.25; there, port 10025, a
/// <see cref="DelayingTcpRelay"/> that holds every chunk 25 ms each way (a 50 ms round trip) in front of the sink:
/// <c>smtp-sink</c> on 127.0.46.26:10026 (<see cref="LatencySink.DataOnly"/>) or a private Postfix <c>smtpd</c>
/// on 127.0.46.27:10027 (<see cref="LatencySink.Chunking"/>).
/// </summary>
internal sealed class LatencyBenchmarkRig : IDisposable
{
    public const int Domains = 100;
    public const string Zone = "latency.test";
    public const string MxHost = "mx." + Zone;

    public static readonly IPEndPoint NameServer = new(IPAddress.Parse("127.0.46.53"), 10056);
    public static readonly IPEndPoint Mx = new(IPAddress.Parse("127.0.46.25"), 10025);
    public static readonly IPEndPoint DataOnlySink = new(IPAddress.Parse("127.0.46.26"), 10026);
    public static readonly IPEndPoint ChunkingSink = new(IPAddress.Parse("127.0.46.27"), 10027);
    public static readonly TimeSpan OneWayDelay = TimeSpan.FromMilliseconds(25);

    private readonly NsdServer _nsd;
    private readonly SmtpSink? _smtpSink;
    private readonly PostfixDiscardSink? _postfix;

    public LatencyBenchmarkRig(LatencySink sink)
    {
        var zone = new StringBuilder($"""
            $ORIGIN {Zone}.
            $TTL 3600
            @    SOA  ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 3600
            @    NS   ns.{Zone}.
            ns   A    {NameServer.Address}
            mx   A    {Mx.Address}

            """);
        for (var i = 0; i < Domains; i++)
        {
            zone.Append(Domain(i)[..3]).Append(" MX 10 ").Append(MxHost).Append(".\n");
        }

        _nsd = new NsdServer(NameServer, [new NsdZone(Zone, zone.ToString())]);
        try
        {
            IPEndPoint target;
            if (sink == LatencySink.DataOnly)
            {
                _smtpSink = SmtpSink.Start(DataOnlySink, "sink." + Zone);
                target = DataOnlySink;
                var ehlo = PostfixDiscardSink.Ehlo(target) ?? throw new InvalidOperationException($"smtp-sink on {target} does not answer EHLO.");
                if (!PostfixDiscardSink.Offers(ehlo, "PIPELINING") || PostfixDiscardSink.Offers(ehlo, "CHUNKING"))
                {
                    throw new InvalidOperationException($"smtp-sink should offer PIPELINING and not CHUNKING:\n{ehlo}");
                }
            }
            else
            {
                _postfix = PostfixDiscardSink.Start(ChunkingSink, "sink." + Zone);
                target = ChunkingSink;
            }

            Relay = new DelayingTcpRelay(Mx, target, OneWayDelay);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public DelayingTcpRelay Relay { get; } = null!;

    /// <summary>
    /// The mailer's options: the defaults but for what the rig requires (its name server and port, private targets
    /// allowed as the MX is on loopback, no retries so a failure shows) and an EHLO name, which has no default.
    /// MaxConnectionsPerHost stays at its default (5), TLS at opportunistic (neither sink offers STARTTLS), MTA-STS and DANE on.
    /// </summary>
    public static DirectMailOptions MailerOptions() => new()
    {
        HeloName = BenchmarkMessages.HeloName,
        Port = Mx.Port,
        NameServers = [NameServer.ToString()],
        AllowPrivateTargets = true,
        MaxRetryAttempts = 0,
    };

    /// <summary>The i-th recipient domain: d00.latency.test … d99.latency.test.</summary>
    public static string Domain(int i) => $"d{i % Domains:D2}.{Zone}";

    /// <summary>What the sink and relay saw, for the log: connections, chunks each way, and Postfix's last session summaries.</summary>
    public string Report(long messages)
    {
        var text = new StringBuilder();
        text.Append("Relay: ").Append(Relay.Connections).Append(" connections, ")
            .Append(Relay.ChunksToTarget).Append(" chunks to the sink, ")
            .Append(Relay.ChunksFromTarget).Append(" back, for ").Append(messages).Append(" messages");
        if (messages > 0)
        {
            text.Append(" (").Append((Relay.ChunksToTarget / (double)messages).ToString("F2", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" client writes, ").Append((Relay.ChunksFromTarget / (double)messages).ToString("F2", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" server writes per message)");
        }

        text.Append('\n');
        if (_postfix is not null)
        {
            _postfix.WaitUntilQueueEmpty(TimeSpan.FromSeconds(60));
            var log = _postfix.Log.Split('\n');
            text.Append("Postfix: ").Append(log.Count(l => l.Contains("status=sent (benchmark sink)", StringComparison.Ordinal))).Append(" discarded, ")
                .Append(log.Count(l => l.Contains("status=deferred", StringComparison.Ordinal) || l.Contains("status=bounced", StringComparison.Ordinal))).Append(" deferred or bounced, queue empty\n");
            foreach (var line in log.Where(l => l.Contains("]: disconnect from ", StringComparison.Ordinal)).TakeLast(3))
            {
                text.Append("  ").Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    public void Dispose()
    {
        Relay?.Dispose();
        _smtpSink?.Dispose();
        _postfix?.Dispose();
        _nsd.Dispose();
    }
}
