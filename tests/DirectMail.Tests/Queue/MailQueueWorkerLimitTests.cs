using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue;

/// <summary>The worker's per-destination limits: provider rules, exact waits of the bucket, connection slots, and the store that shares them.</summary>
public sealed class MailQueueWorkerLimitTests
{
    private const string Google = "alt1.aspmx.l.google.com aspmx.l.google.com";
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nSubject: limited\r\n\r\nHello.\r\n");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryLimitStore _store = new(new InMemoryQueueStore());
    private readonly FakeQueueSender _sender = new() { Destination = domain => domain.EndsWith(".hosted.test", StringComparison.Ordinal) ? Google : "mx." + domain };

    private (MailQueue Queue, MailQueueWorker Worker) Create(Action<MailQueueOptions> configure)
    {
        var options = new MailQueueOptions { RetryJitter = 0 };
        configure(options);
        var queue = new MailQueue(_store, options, null, _time, new Random(1));
        return (queue, new MailQueueWorker(queue, _sender, null));
    }

    private static DestinationLimit GoogleLimit(double rate = 0, int connections = 0) => new() { Name = "google", MxHosts = { "*.google.com" }, MaxMessagesPerSecond = rate, MaxConnections = connections };

    private Task<string> Enqueue(MailQueue queue, string to) => queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", to), SmtpContent.FromBytes(Body)).AsTask();

    [Fact]
    public async Task Two_domains_hosted_by_one_provider_share_its_bucket_and_wait_exactly_their_turn()
    {
        var (queue, worker) = Create(o => o.DestinationLimits.Add(GoogleLimit(rate: 1)));
        await Enqueue(queue, "a@one.hosted.test");
        await Enqueue(queue, "b@two.hosted.test");
        await Enqueue(queue, "c@one.hosted.test");
        await Enqueue(queue, "d@elsewhere.test");

        var run = worker.RunOnceAsync(default);
        await TestTimeouts.EventuallyAsync(() => _store.Tokens.Count == 3 && _sender.Sends.Count == 2, "_store.Tokens.Count == 3 && _sender.Sends.Count == 2");

        // One bucket for both domains: the first goes, the next waits 1 s, the last 2 s; the unmatched one is not limited.
        Assert.Equal([("google", TimeSpan.Zero), ("google", TimeSpan.FromSeconds(1)), ("google", TimeSpan.FromSeconds(2))], _store.Tokens.OrderBy(t => t.Wait));
        Assert.Contains(_sender.Sends, s => s.Envelope.Recipients[0] == "d@elsewhere.test");
        _time.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(50);
        Assert.Equal(2, _sender.Sends.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await TestTimeouts.EventuallyAsync(() => _sender.Sends.Count == 3, "_sender.Sends.Count == 3");
        _time.Advance(TimeSpan.FromSeconds(1));
        await run;

        Assert.Equal(4, _sender.Sends.Count);
        Assert.Empty(_store.Acquires); // no connection limit: no slot taken
    }

    [Fact]
    public async Task Connection_slots_limit_the_sends_in_progress_over_all_domains_of_the_provider()
    {
        var (queue, worker) = Create(o => o.DestinationLimits.Add(GoogleLimit(connections: 2)));
        for (var i = 0; i < 6; i++)
        {
            await Enqueue(queue, $"r{i}@d{i % 3}.hosted.test");
        }

        var gate = new TaskCompletionSource();
        _sender.Gate = () => gate.Task;
        var run = worker.RunOnceAsync(default);
        await TestTimeouts.EventuallyAsync(() => _sender.InProgress == 2 && _store.Acquires.Count(a => !a.Taken) >= 4, "_sender.InProgress == 2 && _store.Acquires.Count(a => !a.Taken) >= 4");
        await Task.Delay(50);
        Assert.Equal(2, _sender.Sends.Count);

        gate.SetResult();
        await run;

        Assert.Equal(6, _sender.Sends.Count);
        Assert.Equal(2, _sender.MaxInProgress);
        var taken = _store.Acquires.Where(a => a.Taken).Select(a => (a.Key, a.Holder)).ToList();
        Assert.Equal(6, taken.Count);
        Assert.Equal(taken.OrderBy(t => t.Holder), _store.Releases.OrderBy(t => t.Holder)); // every slot given back
        Assert.All(taken, t => Assert.Equal("google", t.Key));
    }

    [Fact]
    public async Task A_delivery_that_gets_no_slot_in_time_is_deferred_without_an_attempt_and_comes_back()
    {
        var (queue, worker) = Create(o =>
        {
            o.DestinationLimits.Add(GoogleLimit(connections: 1));
            o.ConnectionSlotWait = TimeSpan.FromSeconds(10);
            o.ClaimBatchSize = 1;
        });
        var first = await Enqueue(queue, "a@one.hosted.test");
        var second = await Enqueue(queue, "b@two.hosted.test");
        var gate = new TaskCompletionSource();
        _sender.Gate = () => gate.Task;

        // Two workers on one store, as two instances would be: the second finds the only slot taken.
        var other = new MailQueueWorker(queue, _sender, null);
        var running = worker.RunOnceAsync(default);
        await TestTimeouts.EventuallyAsync(() => _sender.InProgress == 1, "_sender.InProgress == 1");
        var waiting = other.RunOnceAsync(default);
        await TestTimeouts.EventuallyAsync(() => _store.Acquires.Count(a => !a.Taken) == 1, "_store.Acquires.Count(a => !a.Taken) == 1");
        for (var i = 0; i < 10 && !waiting.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // it looks again every second, then gives up at 10 s
            await TestTimeouts.EventuallyAsync(() => waiting.IsCompleted || _store.Acquires.Count(a => !a.Taken) == i + 2, "waiting.IsCompleted || _store.Acquires.Count(a => !a.Taken) == i + 2");
        }

        await waiting;
        var r = (await queue.GetAsync(second))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Deferred, r.State);
        Assert.Equal(Start + TimeSpan.FromSeconds(20), r.NextAttemptAt);
        Assert.Empty(r.Attempts);
        Assert.Single(_sender.Sends);

        gate.SetResult();
        await running;
        _time.Advance(TimeSpan.FromSeconds(10));
        await other.RunOnceAsync(default);
        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(first))!.Recipients[0].State);
        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(second))!.Recipients[0].State);
    }

    [Fact]
    public async Task A_slot_held_by_a_long_send_is_renewed_with_the_claim_lease()
    {
        var (queue, worker) = Create(o =>
        {
            o.MaxConnectionsPerDestination = 1;
            o.LeaseDuration = TimeSpan.FromMinutes(3);
        });
        await Enqueue(queue, "a@slow.test");
        var gate = new TaskCompletionSource();
        _sender.Gate = () => gate.Task;

        var run = worker.RunOnceAsync(default);
        await TestTimeouts.EventuallyAsync(() => _sender.InProgress == 1, "_sender.InProgress == 1");
        _time.Advance(TimeSpan.FromMinutes(1));
        await TestTimeouts.EventuallyAsync(() => _store.Acquires.Count == 2, "_store.Acquires.Count == 2");

        // Taken again by the same holder, which extends its lease; still one slot, still held.
        Assert.Equal(_store.Acquires[0], _store.Acquires[1]);
        Assert.Equal("mx.slow.test", _store.Acquires[0].Key);
        Assert.False(await _store.TryAcquireConnectionSlotAsync("mx.slow.test", 1, "someone else", _time.GetUtcNow() + TimeSpan.FromMinutes(2.5), _time.GetUtcNow() + TimeSpan.FromMinutes(4), default));
        gate.SetResult();
        await run;
        Assert.Single(_store.Releases);
    }

    [Fact]
    public async Task Without_a_store_that_shares_limits_the_worker_keeps_them_in_process()
    {
        var queue = new MailQueue(new InMemoryQueueStore(), new MailQueueOptions { MaxMessagesPerSecondPerDestination = 1 }, null, _time);
        var worker = new MailQueueWorker(queue, _sender, null);

        Assert.IsType<InProcessLimitStore>(worker.Limits);
        Assert.Same(_store, Create(o => { }).Worker.Limits);
    }
}
