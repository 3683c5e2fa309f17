using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Queue;

/// <summary>The queue and its worker over the in-memory store, with a fake sender and a fake clock: every rule of the schedule and the states.</summary>
public sealed class MailQueueWorkerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nTo: b@example.net\r\nSubject: queued\r\n\r\nHello.\r\n");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryQueueStore _store = new();
    private readonly FakeQueueSender _sender = new();

    private (MailQueue Queue, MailQueueWorker Worker) Create(Action<MailQueueOptions>? configure = null)
    {
        var options = new MailQueueOptions { RetryJitter = 0 };
        configure?.Invoke(options);
        var queue = new MailQueue(_store, options, null, _time, new Random(1));
        return (queue, new MailQueueWorker(queue, _sender, null));
    }

    [Fact]
    public async Task Enqueue_returns_the_id_once_the_store_holds_the_message_in_wire_form()
    {
        var (queue, _) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net", "c@example.org"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes("Subject: x\n\nbare LF\rbare CR\r\nlast line")));

        Assert.Equal(1, _store.Enqueues);
        Assert.Equal("Subject: x\r\n\r\nbare LF\r\nbare CR\r\nlast line\r\n", Encoding.ASCII.GetString(_store.Content(id)));
        var message = await queue.GetAsync(id);
        Assert.NotNull(message);
        Assert.Equal(["b@example.net", "c@example.org"], message.Recipients.Select(r => r.Address));
        Assert.All(message.Recipients, r => Assert.Equal(QueueRecipientState.Queued, r.State));
        Assert.Equal(Start + TimeSpan.FromDays(5), message.ExpiresAt);
    }

    [Fact]
    public async Task Queue_ids_are_unique_sortable_and_safe_text()
    {
        var (queue, _) = Create();
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add(await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body)));
            if (i % 10 == 0)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids, ids.OrderBy(i => i, StringComparer.Ordinal));
        Assert.All(ids, id => Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", id));
    }

    [Fact]
    public async Task Content_with_a_NUL_is_refused_before_anything_is_stored()
    {
        var (queue, _) = Create();
        var stream = new System.IO.MemoryStream(Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbad\0octet\r\n"));
        var e = await Assert.ThrowsAsync<SmtpContentException>(() => queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromStream(stream)).AsTask());
        Assert.Equal(3, e.Line);
        Assert.Equal(0, _store.Enqueues);
    }

    [Fact]
    public async Task Each_domain_of_a_message_is_one_send_with_its_recipients_and_all_are_recorded()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net", "c@example.org", "d@EXAMPLE.net"), SmtpContent.FromBytes(Body));

        Assert.Equal(1, await worker.RunOnceAsync(default));

        Assert.Equal(2, _sender.Sends.Count);
        Assert.Contains(_sender.Sends, s => s.Envelope.Recipients.SequenceEqual(["b@example.net", "d@EXAMPLE.net"]));
        Assert.Contains(_sender.Sends, s => s.Envelope.Recipients.SequenceEqual(["c@example.org"]));
        Assert.All(_sender.Sends, s => Assert.Equal(Body, s.Content));
        var message = (await queue.GetAsync(id))!;
        Assert.All(message.Recipients, r =>
        {
            Assert.Equal(QueueRecipientState.Delivered, r.State);
            var attempt = Assert.Single(r.Attempts);
            Assert.Equal("250 2.0.0 Ok: queued as 1", attempt.Reply);
            Assert.Equal("mx.example.net", attempt.MxHost);
            Assert.Equal("192.0.2.25", attempt.ServerAddress);
        });
    }

    [Fact]
    public async Task A_queued_message_is_sent_again_with_the_DSN_parameters_it_was_enqueued_with()
    {
        // Stops: a retry from the queue dropping RET, ENVID, NOTIFY or ORCPT, or giving one recipient's to another.
        var (queue, worker) = Create();
        var envelope = new SmtpEnvelope("a@sender.example", new SmtpRecipient[]
        {
            new("b@example.net", DsnNotify.Success, "orig-b@example.org"),
            new("c@example.org", DsnNotify.Never),
            "d@example.net",
        })
        {
            DsnReturn = DsnReturn.Headers,
            DsnEnvelopeId = "env-7",
        };
        var id = await queue.EnqueueAsync(envelope, SmtpContent.FromBytes(Body));

        Assert.Equal(1, await worker.RunOnceAsync(default));

        var net = Assert.Single(_sender.Sends, s => s.Envelope.Recipients[0] == "b@example.net").Envelope;
        Assert.Equal(["b@example.net", "d@example.net"], net.Recipients);
        Assert.Equal((DsnNotify.Success, "orig-b@example.org"), (net.GetRecipientNotify(0), net.GetOriginalRecipient(0)));
        Assert.Equal((DsnNotify.Default, (string?)null), (net.GetRecipientNotify(1), net.GetOriginalRecipient(1)));
        var org = Assert.Single(_sender.Sends, s => s.Envelope.Recipients[0] == "c@example.org").Envelope;
        Assert.Equal(DsnNotify.Never, org.GetRecipientNotify(0));
        Assert.All(_sender.Sends, s => Assert.Equal((DsnReturn.Headers, "env-7"), (s.Envelope.DsnReturn!.Value, s.Envelope.DsnEnvelopeId)));
        var stored = (await queue.GetAsync(id))!;
        Assert.Equal("env-7", stored.DsnEnvelopeId);
        Assert.Equal([DsnNotify.Success, DsnNotify.Never, DsnNotify.Default], stored.Recipients.Select(r => r.Notify));
    }

    [Fact]
    public async Task The_recipients_are_marked_in_flight_before_the_last_octet_is_written()
    {
        var (queue, _) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        var seen = new List<int>();
        var recorder = new WriteRecordingStream(seen);
        _store.OnMarkInFlight = () =>
        {
            // At the mark, the session has every octet but the last.
            Assert.Equal(Body.Length - 1, seen.Sum());
            Assert.Equal(QueueRecipientState.InFlight, _store.State(id, 0));
            return Task.CompletedTask;
        };

        var content = await OpenBarrierContentAsync(id);
        await content.WriteToAsync(recorder, SmtpCapabilities.Minimal, default);

        Assert.Equal(Body.Length, seen.Sum());
        Assert.Equal(1, seen[^1]);
        Assert.Contains("marked " + id, _store.Log);
    }

    private async Task<SmtpContent> OpenBarrierContentAsync(string id)
    {
        var claim = Assert.Single(await _store.ClaimDueAsync(_time.GetUtcNow(), 1, TimeSpan.FromMinutes(1), default));
        var stream = await _store.OpenContentAsync(id, default);
        return new QueuedContent(stream, claim.BodyType, claim.RequiresSmtpUtf8, claim.IgnoreRecipientTlsPolicy, ct => _store.MarkInFlightAsync(claim, [0], ct));
    }

    [Fact]
    public async Task A_greylisted_recipient_is_deferred_on_the_schedule_and_delivered_on_the_retry()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Deferred(a);

        await worker.RunOnceAsync(default);
        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Deferred, r.State);
        Assert.Equal(Start + TimeSpan.FromSeconds(330), r.NextAttemptAt);
        Assert.Equal("450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.net.html", Assert.Single(r.Attempts).Reply);

        _time.Advance(TimeSpan.FromSeconds(329));
        Assert.Equal(0, await worker.RunOnceAsync(default));

        _time.Advance(TimeSpan.FromSeconds(1));
        await worker.RunOnceAsync(default);
        r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(Start + TimeSpan.FromSeconds(330) + TimeSpan.FromMinutes(15), r.NextAttemptAt);

        _sender.Outcome = a => FakeQueueSender.Delivered(a);
        _time.Advance(TimeSpan.FromMinutes(15));
        await worker.RunOnceAsync(default);
        r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Delivered, r.State);
        Assert.Equal([QueueRecipientState.Deferred, QueueRecipientState.Deferred, QueueRecipientState.Delivered], r.Attempts.Select(a => a.Outcome));
        Assert.Equal(3, _sender.Sends.Count);
    }

    [Fact]
    public async Task A_server_hint_sets_the_retry_time()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Deferred(a, 450, "4.2.0 Greylisted, please try again in 180 seconds");

        await worker.RunOnceAsync(default);

        Assert.Equal(Start + TimeSpan.FromSeconds(180), (await queue.GetAsync(id))!.Recipients[0].NextAttemptAt);
    }

    [Fact]
    public async Task A_permanent_refusal_fails_with_the_exact_reply()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "nobody@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Failed(a);
        var events = await ReadEvents(queue, 1);

        await worker.RunOnceAsync(default);

        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Failed, r.State);
        Assert.Equal("550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown", Assert.Single(r.Attempts).Reply);
        var e = Assert.Single(await events);
        Assert.Equal((id, QueueRecipientState.Failed, "nobody@example.net"), (e.QueueId, e.State, e.Address));
        Assert.Equal(r.Attempts[0].Reply, e.Attempt!.Reply);
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await worker.RunOnceAsync(default));
    }

    [Fact]
    public async Task A_connection_lost_after_the_dot_is_in_doubt_and_not_sent_again()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.LostAfterDot(a);

        await worker.RunOnceAsync(default);
        _time.Advance(TimeSpan.FromDays(1));
        await worker.RunOnceAsync(default);

        Assert.Single(_sender.Sends);
        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.InDoubt, r.State);
        Assert.Null(r.NextAttemptAt);

        // Released by an operator, it is sent again.
        _sender.Outcome = a => FakeQueueSender.Delivered(a);
        Assert.Equal(1, await queue.ReleaseAsync(id));
        await worker.RunOnceAsync(default);
        Assert.Equal(2, _sender.Sends.Count);
        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(id))!.Recipients[0].State);
    }

    [Fact]
    public async Task Recipients_still_deferred_at_the_maximum_age_expire_after_a_last_attempt_at_that_age()
    {
        var (queue, worker) = Create(o => { o.MaxAge = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromMinutes(40)); });
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Deferred(a);

        await worker.RunOnceAsync(default);
        Assert.Equal(Start + TimeSpan.FromMinutes(40), (await queue.GetAsync(id))!.Recipients[0].NextAttemptAt);
        _time.Advance(TimeSpan.FromMinutes(40));
        await worker.RunOnceAsync(default);
        Assert.Equal(Start + TimeSpan.FromHours(1), (await queue.GetAsync(id))!.Recipients[0].NextAttemptAt);
        _time.Advance(TimeSpan.FromMinutes(20));
        await worker.RunOnceAsync(default);

        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Expired, r.State);
        Assert.Equal([QueueRecipientState.Deferred, QueueRecipientState.Deferred, QueueRecipientState.Expired], r.Attempts.Select(a => a.Outcome));
        Assert.Equal(3, _sender.Sends.Count);
    }

    [Fact]
    public async Task A_message_claimed_past_its_maximum_age_gets_one_more_attempt_then_expires()
    {
        var (queue, worker) = Create(o => o.MaxAge = TimeSpan.FromHours(1));
        var late = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        var lucky = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "c@example.org"), SmtpContent.FromBytes(Body));
        _time.Advance(TimeSpan.FromHours(2)); // the worker was down
        _sender.Outcome = a => a.EndsWith("example.org", StringComparison.Ordinal) ? FakeQueueSender.Delivered(a) : FakeQueueSender.Deferred(a);

        await worker.RunOnceAsync(default);

        Assert.Equal(2, _sender.Sends.Count);
        var r = (await queue.GetAsync(late))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Expired, r.State);
        Assert.Equal("450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.net.html", Assert.Single(r.Attempts).Reply);
        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(lucky))!.Recipients[0].State);
    }

    [Fact]
    public async Task A_destination_that_cannot_be_reached_is_tried_once_for_all_its_messages_until_its_retry_time()
    {
        var (queue, worker) = Create(o => o.ClaimBatchSize = 1);
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", $"r{i}@dead.example"), SmtpContent.FromBytes(Body)));
        }

        var other = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@alive.example"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => a.EndsWith("@dead.example", StringComparison.Ordinal) ? FakeQueueSender.Unreachable(a) : FakeQueueSender.Delivered(a);

        // One claim at a time (a batch of 1): the memory is what stops the others, not a race.
        await worker.RunOnceAsync(default);

        Assert.Equal(2, _sender.Sends.Count); // one to the dead destination, one to the live one
        var first = (await queue.GetAsync(ids[0]))!.Recipients[0];
        Assert.Equal(Start + TimeSpan.FromSeconds(330), first.NextAttemptAt);
        foreach (var id in ids.Skip(1))
        {
            var r = (await queue.GetAsync(id))!.Recipients[0];
            Assert.Equal(QueueRecipientState.Deferred, r.State);
            Assert.Equal(first.NextAttemptAt, r.NextAttemptAt);
            Assert.Empty(r.Attempts);
        }

        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(other))!.Recipients[0].State);

        // At its retry time it is tried again, once.
        _time.Advance(TimeSpan.FromSeconds(330));
        await worker.RunOnceAsync(default);

        Assert.Equal(3, _sender.Sends.Count);
    }

    [Fact]
    public async Task A_rate_limited_destination_is_left_alone_for_the_rate_limit_delay()
    {
        var (queue, worker) = Create(o => o.ClaimBatchSize = 1);
        var first = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@gmail.example"), SmtpContent.FromBytes(Body));
        var second = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "c@gmail.example"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a => FakeQueueSender.Deferred(a, 421, "4.7.28 Our system has detected an unusual rate of unsolicited mail");

        await worker.RunOnceAsync(default);

        Assert.Single(_sender.Sends);
        var r1 = (await queue.GetAsync(first))!.Recipients[0];
        var r2 = (await queue.GetAsync(second))!.Recipients[0];
        Assert.Equal(Start + TimeSpan.FromMinutes(30), r1.NextAttemptAt);
        Assert.Equal(r1.NextAttemptAt, r2.NextAttemptAt);
        Assert.Empty(r2.Attempts);
    }

    [Fact]
    public async Task A_worker_that_died_after_the_mark_leaves_the_recipient_in_doubt_at_the_next_claim()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));

        // A first worker claims, marks, writes the end, and dies before it records anything.
        var claim = Assert.Single(await _store.ClaimDueAsync(_time.GetUtcNow(), 1, TimeSpan.FromMinutes(2), default));
        await _store.MarkInFlightAsync(claim, [0], default);
        Assert.Equal(0, await worker.RunOnceAsync(default)); // leased: not claimable
        _time.Advance(TimeSpan.FromMinutes(3));

        Assert.Equal(0, await worker.RunOnceAsync(default));

        Assert.Empty(_sender.Sends);
        Assert.Equal(QueueRecipientState.InDoubt, (await queue.GetAsync(id))!.Recipients[0].State);
        await Assert.ThrowsAsync<QueueLeaseLostException>(() => _store.CompleteAsync(claim, [], default).AsTask());
    }

    [Fact]
    public async Task Run_until_empty_waits_out_a_dead_workers_lease_and_leaves_its_recipients_in_doubt_not_in_flight()
    {
        // Found while building the worker crash tests (Queue/Crash), whose last run until empty comes right after a
        // kill: it returned at once and left what the killed worker had marked InFlight for good, not InDoubt.
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        var claim = Assert.Single(await _store.ClaimDueAsync(_time.GetUtcNow(), 1, TimeSpan.FromMinutes(2), default));
        await _store.MarkInFlightAsync(claim, [0], default);

        var run = worker.RunUntilEmptyAsync(default);
        await Task.Delay(50);
        Assert.False(run.IsCompleted, "RunUntilEmptyAsync returned while a recipient was still InFlight under a lease");
        for (var i = 0; i < 300 && !run.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(_sender.Sends);
        Assert.Equal(QueueRecipientState.InDoubt, (await queue.GetAsync(id))!.Recipients[0].State);
    }

    [Fact]
    public async Task A_worker_whose_lease_was_taken_records_nothing()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        _sender.Outcome = a =>
        {
            // While this send runs, its lease runs out and another worker claims the message (nothing is due for it:
            // the recipient in flight becomes in doubt). The lease is ended by hand: moving the clock would let the
            // worker renew it first.
            _store.ExpireLease(id);
            Assert.Empty(_store.ClaimDueAsync(_time.GetUtcNow(), 1, TimeSpan.FromMinutes(2), default).AsTask().Result);
            return FakeQueueSender.Failed(a);
        };

        await worker.RunOnceAsync(default);

        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.InDoubt, r.State); // it was marked in flight by the first worker
        Assert.Empty(r.Attempts);
    }

    [Fact]
    public async Task A_stale_claim_whose_content_is_gone_sends_nothing_and_says_why_without_an_error()
    {
        // The fault: a worker paused (GC, a slow disk) past its lease while a second worker delivered the message and
        // the store dropped its content. The first worker must neither send, nor record a deferral over the newer
        // outcome, nor log an Error that the stored message is unreadable.
        var logger = new Infrastructure.ListLogger();
        using var factory = LoggerFactory.Create(b => b.AddProvider(new Infrastructure.ListLoggerProvider(logger)).SetMinimumLevel(LogLevel.Trace));
        var options = new MailQueueOptions { RetryJitter = 0 };
        var queue = new MailQueue(_store, options, null, _time, new Random(1));
        var stale = new MailQueueWorker(queue, _sender, factory);
        var second = new MailQueueWorker(queue, _sender, null);
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        var once = 0;
        _store.OnOpenContent = async messageId =>
        {
            if (Interlocked.Increment(ref once) == 1)
            {
                _store.ExpireLease(messageId);
                Assert.Equal(1, await second.RunOnceAsync(default));
            }
        };

        await stale.RunOnceAsync(default);

        var send = Assert.Single(_sender.Sends);
        Assert.Equal(["b@example.net"], send.Envelope.Recipients);
        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Delivered, r.State);
        Assert.Single(r.Attempts);
        Assert.Contains(logger.Entries, e => e.Id.Id == 7036 && e.Level == LogLevel.Information);
        Assert.DoesNotContain(logger.Entries, e => e.Id.Id == 7035 || e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Hold_release_flush_bounce_and_delete_go_through_the_store()
    {
        var (queue, worker) = Create();
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net", "c@example.net"), SmtpContent.FromBytes(Body));

        Assert.Equal(2, await queue.HoldAsync(id));
        Assert.Equal(0, await worker.RunOnceAsync(default));
        Assert.Equal(2, await queue.ReleaseAsync(id));

        _sender.Outcome = a => FakeQueueSender.Deferred(a);
        await worker.RunOnceAsync(default);
        Assert.Equal(0, await worker.RunOnceAsync(default));
        Assert.Equal(2, await queue.FlushAsync(id));
        Assert.Equal(1, await worker.RunOnceAsync(default));
        Assert.Equal(2, _sender.Sends.Count);

        Assert.Equal(2, await queue.BounceAsync(id));
        var message = (await queue.GetAsync(id))!;
        Assert.All(message.Recipients, r => Assert.Equal(QueueRecipientState.Failed, r.State));
        Assert.Empty(await ToListAsync(queue.ListAsync()));
        Assert.Single(await ToListAsync(queue.ListAsync(pendingOnly: false)));

        Assert.Equal(2, await queue.DeleteAsync(id));
        Assert.Null(await queue.GetAsync(id));
    }

    [Fact]
    public async Task Statistics_feed_the_cache_the_gauges_read()
    {
        var (queue, worker) = Create();
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        Assert.Null(queue.CachedStatistics);

        var statistics = await queue.GetStatisticsAsync();

        Assert.Same(statistics, queue.CachedStatistics);
        Assert.Equal(1, statistics.RecipientsByState[QueueRecipientState.Queued]);
        Assert.Equal(Start, statistics.NextDueAt);
    }

    [Fact]
    public async Task Run_until_empty_waits_for_the_retry_and_returns_when_nothing_is_left()
    {
        var (queue, worker) = Create(o => o.RetryIntervals.Add(TimeSpan.FromSeconds(10)));
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        var tries = 0;
        _sender.Outcome = a => ++tries == 1 ? FakeQueueSender.Deferred(a) : FakeQueueSender.Delivered(a);

        var run = worker.RunUntilEmptyAsync(default);
        while (_sender.Sends.Count < 1 || !_store.Log.Contains("complete " + id))
        {
            await Task.Delay(10);
        }

        Assert.False(run.IsCompleted);
        while (!run.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        await run;
        Assert.Equal(2, _sender.Sends.Count);
        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(id))!.Recipients[0].State);
    }

    [Fact]
    public async Task An_enqueue_wakes_the_sleeping_worker_at_once()
    {
        var (queue, worker) = Create(o => o.IdlePollInterval = TimeSpan.FromHours(1));
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await Task.Delay(50);

        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));
        for (var i = 0; i < 500 && _sender.Sends.Count == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Single(_sender.Sends);
        stop.Cancel();
        await run;
    }

    private static async Task<Task<List<MailQueueEvent>>> ReadEvents(MailQueue queue, int count)
    {
        var started = new TaskCompletionSource();
        var task = Task.Run(async () =>
        {
            var list = new List<MailQueueEvent>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var enumerator = queue.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
            var next = enumerator.MoveNextAsync();
            started.SetResult();
            while (await next)
            {
                list.Add(enumerator.Current);
                if (list.Count == count)
                {
                    break;
                }

                next = enumerator.MoveNextAsync();
            }

            return list;
        });
        await started.Task.Bounded();
        return task;
    }

    // System.Linq.AsyncEnumerable is in the BCL from .NET 10 only; the suite also runs on net8.0.
    internal static async Task<List<QueuedMessage>> ToListAsync(IAsyncEnumerable<QueuedMessage> messages)
    {
        var list = new List<QueuedMessage>();
        await foreach (var message in messages)
        {
            list.Add(message);
        }

        return list;
    }
}
