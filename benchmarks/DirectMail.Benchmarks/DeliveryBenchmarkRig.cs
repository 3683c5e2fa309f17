using System;
using System.Diagnostics;
using System.Net;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Benchmarks;

/// <summary>
/// What <see cref="DeliveryBenchmarks"/> runs against, all on loopback: NSD (<see cref="NsdServer"/>) on 127.0.53.25
/// port 10054 (the delivery tests use 10053) serving the zone <c>deliverbench.test</c>, whose 100 domains d00 … d99
/// each have one MX host pointing at 127.0.26.200; and Postfix's <c>smtp-sink</c> (<see cref="SmtpSink"/>) listening
/// on 127.0.26.200 port 10025.
/// </summary>
internal sealed class DeliveryBenchmarkRig : IDisposable
{
    public const int Domains = 100;
    public const int Port = 10025;
    public const string Zone = "deliverbench.test";

    public static readonly IPEndPoint NameServer = new(IPAddress.Parse("127.0.53.25"), 10054);
    public static readonly IPEndPoint Sink = new(IPAddress.Parse("127.0.26.200"), Port);

    private readonly NsdServer _nsd;
    private readonly SmtpSink _sink;

    public DeliveryBenchmarkRig()
    {
        var zone = new ZoneBuilder(Zone, ttl: 3600)
            .WithSoa($"ns.{Zone}.", $"hostmaster.{Zone}.", minimum: 3600)
            .WithNameServer(NameServer.Address);
        for (var i = 0; i < Domains; i++)
        {
            var label = Domain(i)[..3];
            zone.Mx(label, 10, "mx." + label, Sink.Address);
        }

        _nsd = new NsdServer(NameServer, [zone.Build()]);
        try
        {
            _sink = SmtpSink.Start(Sink, "sink." + Zone);
        }
        catch
        {
            _nsd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The mailer settings every benchmark on the rig uses: the rig's DNS and port, plain SMTP, private targets allowed
    /// (the sink is on loopback), no retries; <paramref name="maxConnectionsPerHost"/> lets concurrent callers each have one.
    /// </summary>
    public static DirectMailOptions MailerOptions(int maxConnectionsPerHost) => new()
    {
        HeloName = BenchmarkMessages.HeloName,
        Port = Port,
        NameServers = [NameServer.ToString()],
        AllowPrivateTargets = true,
        TlsMode = SmtpTlsMode.None,
        MaxConnectionsPerHost = maxConnectionsPerHost,
        MaxRetryAttempts = 0,
    };

    /// <summary>The i-th recipient domain: d00.deliverbench.test … d99.deliverbench.test.</summary>
    public static string Domain(int i) => $"d{i % Domains:D2}.{Zone}";

    public void Dispose()
    {
        _sink.Dispose();
        _nsd.Dispose();
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
        var source = ChildProcess.FindExecutable("smtp-source") ?? throw new InvalidOperationException("smtp-source is missing: apt-get install postfix (.ci/run does this).");
        using var process = new ChildProcess(source, reuse ? ["-d", .. arguments] : arguments);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"smtp-source exited with {process.ExitCode}.");
        }

        return clock.Elapsed;
    }
}
