using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using Xunit.Abstractions;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>
/// The queue's exactly-once promise, tested by killing: a few thousand messages are enqueued; probe worker processes
/// deliver them to a real Postfix and to two aiosmtpd servers (which wait between storing a message and replying, so
/// kills land inside transactions) and are SIGKILLed at seeded random moments, several rounds, each time restarted;
/// then stopped with SIGTERM and the rest delivered by a last worker run until empty. Then every copy the servers
/// stored is counted: every recipient the store says Delivered was received exactly once, every one InDoubt at most
/// once, none is left Queued, Deferred or InFlight, and every copy is the exact content enqueued.
/// </summary>
/// <remarks>
/// The seed is printed and named in every failure; DIRECTMAIL_CRASH_SEED replays one. The servers: Postfix from the
/// collection's fixture (postfix.test, 127.0.25.10), aiosmtpd on 127.0.41.1 and .2 (one.crash.test, two.crash.test),
/// NSD on 127.0.41.53 serving both zones to the probes, every SMTP server on port 10025.
/// </remarks>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class QueueWorkerCrashTests(PostfixFixture postfix, ITestOutputHelper output)
{
    private static readonly IPEndPoint DnsEndPoint = TestAddresses.Crash.NameServer;
    private static readonly IPAddress SinkOneAddress = TestAddresses.Crash.SinkOne;
    private static readonly IPAddress SinkTwoAddress = TestAddresses.Crash.SinkTwo;
    private static readonly string[] Domains = [PostfixFixture.Domain, "one.crash.test", "two.crash.test"];

    [Fact]
    public async Task One_worker_killed_again_and_again_delivers_each_recipient_once_or_reports_it_in_doubt()
    {
        using var store = new SqliteCrashStore();
        await RunAsync(store, defaultSeed: 20261202, workers: 1, messageCount: 2000, kills: 7, minGapMs: 300, maxGapMs: 2000, leaseSeconds: 3);
    }

    [Fact]
    public async Task Two_workers_on_one_SQLite_directory_one_killed_at_a_time_deliver_each_recipient_once_or_report_it_in_doubt()
    {
        using var store = new SqliteCrashStore();
        await RunAsync(store, defaultSeed: 20261203, workers: 2, messageCount: 1500, kills: 6, minGapMs: 300, maxGapMs: 2000, leaseSeconds: 10);
    }

    [Fact]
    public async Task Three_workers_on_one_PostgreSQL_one_killed_every_few_seconds_deliver_each_recipient_once_or_report_it_in_doubt()
    {
        // The shared store's promise: claims with SKIP LOCKED, leases that bring a killed instance's work back, and the
        // fence that keeps a worker which lost its lease from overwriting the newer outcome.
        using var store = new PostgreSqlCrashStore();
        await RunAsync(store, defaultSeed: 20261204, workers: 3, messageCount: 1500, kills: 5, minGapMs: 1500, maxGapMs: 3500, leaseSeconds: 10);
    }

    /// <summary>The Postfix fixture's domain as the probes see it, and crash.test with the two aiosmtpd servers.</summary>
    private static NsdZone[] Zones() =>
    [
        new ZoneBuilder(PostfixFixture.Domain, ttl: 3600)
            .WithSoa("ns.crash.test.", "hostmaster.crash.test.")
            .WithNameServer("ns.crash.test.")
            .Mx("@", 10, PostfixFixture.HostName + ".")
            .A("mx", PostfixFixture.Address)
            .Build(),
        new ZoneBuilder("crash.test", ttl: 3600)
            .WithNameServer(DnsEndPoint.Address)
            .Mx("one", 10, "mx.one", SinkOneAddress)
            .Mx("two", 10, "mx.two", SinkTwoAddress)
            .Build(),
    ];

    /// <summary>
    /// One crash run: <paramref name="workers"/> probe workers on <paramref name="store"/>, <paramref name="kills"/>
    /// SIGKILLs, each of a random worker a random <paramref name="minGapMs"/>-<paramref name="maxGapMs"/> ms after it
    /// was delivering; then the count at the servers. A killed worker's claims come back after
    /// <paramref name="leaseSeconds"/>; a lease that runs out under load before it is renewed (the fence then refuses
    /// the first worker's writes) puts what it had InFlight in doubt too.
    /// </summary>
    private async Task RunAsync(CrashStore store, int defaultSeed, int workers, int messageCount, int kills, int minGapMs, int maxGapMs, int leaseSeconds)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("DIRECTMAIL_CRASH_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var given) ? given : defaultSeed;
        var random = new Random(seed);
        var runId = "run" + Guid.NewGuid().ToString("N")[..12];
        var log = new List<string> { $"seed {seed} (DIRECTMAIL_CRASH_SEED replays it), store {store.Name}, {workers} worker(s), {messageCount} messages, {kills} kills {minGapMs}-{maxGapMs} ms apart, lease {leaseSeconds} s, run {runId}" };
        output.WriteLine(log[0]);
        var clock = Stopwatch.StartNew();
        void Note(string line)
        {
            line = $"[{clock.Elapsed.TotalSeconds,6:F1} s] {line}";
            log.Add(line);
            output.WriteLine(line);
        }

        using var dns = new NsdServer(DnsEndPoint, Zones());
        using var sinkOne = new CrashSinkServer(SinkOneAddress, PostfixFixture.Port, TimeSpan.FromMilliseconds(40));
        using var sinkTwo = new CrashSinkServer(SinkTwoAddress, PostfixFixture.Port, TimeSpan.FromMilliseconds(40));

        var messages = new CrashMessages(random, runId, messageCount, Domains);
        await using (var enqueueStore = store.Open())
        await using (var queue = new MailQueue(enqueueStore))
        {
            // Eight producers, so that the store's group commit shares its fsyncs as an application's would.
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                int n;
                while ((n = System.Threading.Interlocked.Increment(ref next)) < messages.All.Count)
                {
                    var m = messages.All[n];
                    m.QueueId = await queue.EnqueueAsync(new SmtpEnvelope("sender@crash.test", m.Recipients), SmtpContent.FromBytes(m.Content));
                }
            })));
        }

        var recipientCount = messages.All.Sum(m => m.Recipients.Count);
        Note($"enqueued {messageCount} messages, {recipientCount} recipients ({string.Join(", ", Domains.Select(d => $"{messages.All.Sum(m => m.Recipients.Count(r => r.EndsWith("@" + d, StringComparison.Ordinal)))} at {d}"))})");

        string[] arguments =
        [
            "--store", store.Argument, "--dns", DnsEndPoint.ToString(), "--port", PostfixFixture.Port.ToString(CultureInfo.InvariantCulture),
            "--lease", leaseSeconds.ToString(CultureInfo.InvariantCulture), "--retry", "1", "--concurrency", "16",
        ];
        using var fleet = new CrashWorkerFleet(workers, arguments);
        await fleet.StartAsync();
        Note("workers started");
        await fleet.KillRoundsAsync(random, kills, minGapMs, maxGapMs, kill => Note(kill.ToString()));

        var stops = await fleet.StopAsync(TimeSpan.FromSeconds(60));
        Note($"SIGTERM: {string.Join("; ", stops.Select(s => $"exit {s.ExitCode}, {s.Progress["progress ".Length..]}"))}");
        var last = await fleet.RunUntilEmptyAsync(TimeSpan.FromSeconds(180));
        Note($"until empty: exit {last.ExitCode}, {last.Progress["progress ".Length..]}");
        await postfix.WaitUntilQueueEmptyAsync(TimeSpan.FromSeconds(120));
        Note("Postfix's queue is empty");

        // What the store says of every recipient.
        var states = new Dictionary<string, QueuedMessage>(StringComparer.Ordinal);
        await using (var readStore = store.Open())
        {
            string? after = null;
            while (true)
            {
                var page = 0;
                await foreach (var m in readStore.ListAsync(after, 500, pendingOnly: false, default))
                {
                    states[m.MessageId] = m;
                    after = m.MessageId;
                    page++;
                }

                if (page < 500)
                {
                    break;
                }
            }
        }

        // Every copy the servers stored, by (message, recipient), each compared with what was enqueued.
        var copies = new Dictionary<(int Number, string Recipient), int>();
        var receivedBy = new Dictionary<(int Number, string Recipient), string>();
        var problems = new List<string>();
        var postfixCopies = 0;
        foreach (var stored in postfix.ReadInbox())
        {
            if (messages.NumberOf(stored.Content) is not { } n)
            {
                continue;
            }

            postfixCopies++;
            Count(n, stored.DeliveredTo ?? "(no Delivered-To)", stored.Content, "Postfix", System.IO.Path.GetFileName(stored.Path));
        }

        var sinkCopies = 0;
        var lostBeforeReply = new List<(int Number, string Recipient)>();
        foreach (var sink in new[] { sinkOne, sinkTwo })
        {
            var lost = sink.LostBeforeReply();
            foreach (var (number, (recipients, content)) in sink.Messages())
            {
                if (messages.NumberOf(content) is not { } n)
                {
                    problems.Add($"{sink.Address} stored message {number}, which is no message of this run");
                    continue;
                }

                foreach (var recipient in recipients)
                {
                    sinkCopies++;
                    Count(n, recipient, content, "aiosmtpd", $"{sink.Address} #{number}");
                    if (lost.Contains(number))
                    {
                        lostBeforeReply.Add((n, recipient.ToLowerInvariant()));
                    }
                }
            }
        }

        void Count(int n, string recipient, byte[] content, string server, string file)
        {
            var key = (n, recipient.ToLowerInvariant());
            var where = server + " " + file;
            copies[key] = copies.GetValueOrDefault(key) + 1;
            receivedBy[key] = server;
            if (!messages.All[n].Recipients.Contains(key.Item2))
            {
                problems.Add($"{where}: message {n} was received for {recipient}, not one of its recipients");
            }

            if (!content.AsSpan().SequenceEqual(messages.All[n].Content))
            {
                problems.Add($"{where}: message {n} for {recipient} is not the content enqueued ({content.Length} octets where {messages.All[n].Content.Length} were)");
            }
        }

        // Each recipient's outcome against its copies.
        int delivered = 0, inDoubtReceived = 0, inDoubtNotReceived = 0, inDoubtAtPostfix = 0, retried = 0;
        var inDoubt = new HashSet<(int, string)>();
        foreach (var m in messages.All)
        {
            if (!states.TryGetValue(m.QueueId, out var queued))
            {
                problems.Add($"message {m.Number} ({m.QueueId}) is missing from the store");
                continue;
            }

            foreach (var r in queued.Recipients)
            {
                var key = (m.Number, r.Address.ToLowerInvariant());
                var received = copies.GetValueOrDefault(key);
                if (r.Attempts.Count > 1)
                {
                    retried++;
                }

                switch (r.State)
                {
                    case QueueRecipientState.Delivered when received == 1:
                        delivered++;
                        break;
                    case QueueRecipientState.InDoubt when received <= 1:
                        inDoubt.Add(key);
                        _ = received == 1 ? inDoubtReceived++ : inDoubtNotReceived++;
                        inDoubtAtPostfix += received == 1 && receivedBy[key] == "Postfix" ? 1 : 0;
                        break;
                    default:
                        problems.Add($"message {m.Number} ({m.QueueId}) to {r.Address}: {r.State} in the store, received {received} time(s); attempts: {string.Join(" | ", r.Attempts.Select(a => $"{a.StartedAt:HH:mm:ss.fff} {a.Outcome} {a.Reply ?? a.Detail}"))}");
                        break;
                }
            }
        }

        foreach (var key in lostBeforeReply.Where(k => !inDoubt.Contains(k)))
        {
            problems.Add($"message {key.Number} to {key.Recipient}: the sink stored it and its client went away before the reply, but the store does not say InDoubt");
        }

        var totalCopies = copies.Values.Sum();
        Note($"received {totalCopies} copies ({postfixCopies} at Postfix, {sinkCopies} at the aiosmtpd sinks); " +
            $"store: {delivered} Delivered (each received once), {inDoubtReceived + inDoubtNotReceived} InDoubt ({inDoubtReceived} received once, {inDoubtAtPostfix} of them by Postfix; {inDoubtNotReceived} never), " +
            $"{retried} recipients tried more than once; {lostBeforeReply.Count} copies stored by a sink whose client was killed before the reply");
        if (fleet.Errors.Count > 0)
        {
            // Under load a claim's lease can run out before it is renewed: another worker takes the message and the
            // first one's writes are refused (the fence), which the workers log.
            var leaseLost = fleet.Errors.Count(e => e.Contains("was lost to a newer one", StringComparison.Ordinal));
            var others = fleet.Errors.Where(e => !e.Contains("was lost to a newer one", StringComparison.Ordinal)).ToList();
            Note($"worker logs: {leaseLost} lost leases; {others.Count} other lines{(others.Count == 0 ? "" : ", first: " + string.Join(" || ", others.Take(5)))}");
        }

        var summary = string.Join("\n", log);
        Assert.True(problems.Count == 0, $"{problems.Count} problems (seed {seed}):\n{string.Join("\n", problems.Take(40))}\n{summary}\nsink output: {sinkOne.Output} {sinkTwo.Output}");
        Assert.True(totalCopies == delivered + inDoubtReceived, $"{totalCopies} copies received where {delivered} Delivered and {inDoubtReceived} InDoubt were (seed {seed})\n{summary}");
        Assert.True(delivered + inDoubtReceived + inDoubtNotReceived == recipientCount, $"(seed {seed})\n{summary}");
        Assert.True(stops.All(s => s.ExitCode == 0) && last.ExitCode == 0, $"a worker did not stop cleanly (seed {seed})\n{summary}");
        Assert.Equal(kills, fleet.Kills.Count);
    }
}
