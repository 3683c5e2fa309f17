using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue;

/// <summary>The delay warning (once per recipient, remembered in the store) and the worker's maximum age over stored expiries.</summary>
public sealed class MailQueueWorkerExpiryTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nSubject: late\r\n\r\nHello.\r\n");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryQueueStore _store = new();
    private readonly FakeQueueSender _sender = new() { Outcome = a => FakeQueueSender.Deferred(a) };
    private readonly List<MailQueueEvent> _events = new();
    private readonly List<MailQueue> _queues = new();
    private readonly CancellationTokenSource _stop = new();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var queue in _queues)
        {
            await queue.DisposeAsync();
        }
    }

    private async Task<(MailQueue Queue, MailQueueWorker Worker)> Create(Action<MailQueueOptions> configure)
    {
        var options = new MailQueueOptions { RetryJitter = 0 };
        configure(options);
        var queue = new MailQueue(_store, options, null, _time, new Random(1));
        _queues.Add(queue);
        var subscribed = new TaskCompletionSource();
        _ = Task.Run(async () =>
        {
            var enumerator = queue.ReadEventsAsync(_stop.Token).GetAsyncEnumerator(_stop.Token);
            var next = enumerator.MoveNextAsync();
            subscribed.SetResult();
            try
            {
                while (await next)
                {
                    lock (_events)
                    {
                        _events.Add(enumerator.Current);
                    }

                    next = enumerator.MoveNextAsync();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await subscribed.Task.Bounded();
        return (queue, new MailQueueWorker(queue, _sender, null));
    }

    private Task<string> Enqueue(MailQueue queue, params string[] to) => queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", to), SmtpContent.FromBytes(Body)).AsTask();

    private async Task<List<MailQueueEvent>> EventsAfter(Task run, int count)
    {
        await run;
        for (var i = 0; i < 500; i++)
        {
            lock (_events)
            {
                if (_events.Count >= count)
                {
                    return _events.ToList();
                }
            }

            await Task.Delay(10);
        }

        lock (_events)
        {
            return _events.ToList();
        }
    }

    [Fact]
    public async Task A_recipient_still_deferred_after_the_delay_warning_time_is_told_delayed_once()
    {
        var (queue, worker) = await Create(o => { o.DelayWarningTime = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromMinutes(25)); });
        var id = await Enqueue(queue, "b@example.net", "c@example.net");

        // Attempts at 0, 25, 50, 75, 100 minutes: the one at 75 is the first at or past one hour.
        for (var i = 0; i < 5; i++)
        {
            await worker.RunOnceAsync(default);
            _time.Advance(TimeSpan.FromMinutes(25));
        }

        var events = await EventsAfter(Task.CompletedTask, 10);
        Assert.Equal(10, events.Count);
        Assert.All(events, e => Assert.Equal(QueueRecipientState.Deferred, e.State));
        var delayed = events.Where(e => e.IsDelayed).ToList();
        Assert.Equal(["b@example.net", "c@example.net"], delayed.Select(e => e.Address).Order());
        Assert.All(delayed, e => Assert.Equal(Start + TimeSpan.FromMinutes(75), e.Attempt!.StartedAt));
        Assert.Equal(Start + TimeSpan.FromMinutes(100), delayed[0].NextAttemptAt);
        Assert.Equal(5, (await queue.GetAsync(id))!.Recipients[0].Attempts.Count); // the warning adds no attempt of its own
    }

    [Fact]
    public async Task The_warning_is_remembered_by_the_store_so_another_worker_does_not_give_it_again()
    {
        var (queue, worker) = await Create(o => { o.DelayWarningTime = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromHours(1)); });
        await Enqueue(queue, "b@example.net");
        await worker.RunOnceAsync(default);
        _time.Advance(TimeSpan.FromHours(1));
        await worker.RunOnceAsync(default);
        _time.Advance(TimeSpan.FromHours(1));

        var (_, restarted) = await Create(o => { o.DelayWarningTime = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromHours(1)); });
        await restarted.RunOnceAsync(default);

        var events = await EventsAfter(Task.CompletedTask, 3);
        Assert.Equal(3, events.Count);
        Assert.Single(events, e => e.IsDelayed);
        Assert.Equal(Start + TimeSpan.FromHours(1), events.Single(e => e.IsDelayed).Attempt!.StartedAt);
    }

    [Fact]
    public async Task Recipients_of_a_dead_destination_not_tried_are_warned_once_each_and_the_history_says_so()
    {
        var (queue, worker) = await Create(o => { o.DelayWarningTime = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromMinutes(40)); o.ClaimBatchSize = 1; });
        var tried = await Enqueue(queue, "a@dead.example");
        _sender.Outcome = a => FakeQueueSender.Unreachable(a);
        await worker.RunOnceAsync(default); // marks the destination down until 40 minutes
        _time.Advance(TimeSpan.FromMinutes(70));
        var notTried = await Enqueue(queue, "b@dead.example");

        await worker.RunOnceAsync(default); // one tries (and marks it down again), the other is deferred untried
        _time.Advance(TimeSpan.FromMinutes(40));
        await worker.RunOnceAsync(default);

        var events = await EventsAfter(Task.CompletedTask, 5);
        Assert.Equal(5, events.Count);
        var delayed = Assert.Single(events, e => e.IsDelayed);
        Assert.Equal("a@dead.example", delayed.Address);
        Assert.Equal(Start + TimeSpan.FromMinutes(70), delayed.Attempt!.StartedAt);
        Assert.DoesNotContain(events, e => e.IsDelayed && e.QueueId == notTried); // enqueued 70 minutes later: not an hour old yet

        // Another hour on, the second message's recipient is past the warning time while its destination is down.
        _sender.Sends.Clear();
        _time.Advance(TimeSpan.FromMinutes(40));
        await worker.RunOnceAsync(default);
        _time.Advance(TimeSpan.FromMinutes(40));
        await worker.RunOnceAsync(default);
        events = await EventsAfter(Task.CompletedTask, 9);
        Assert.Equal(9, events.Count);
        Assert.Single(events, e => e.IsDelayed && e.QueueId == notTried);
        Assert.Single(events, e => e.IsDelayed && e.QueueId == tried);
    }

    [Fact]
    public async Task A_recipient_deferred_untried_past_the_warning_time_is_warned_once_with_a_record_in_its_history()
    {
        var (queue, worker) = await Create(o => o.DelayWarningTime = TimeSpan.FromHours(1));
        var id = await Enqueue(queue, "b@dead.example");
        _time.Advance(TimeSpan.FromHours(2));
        for (var i = 0; i < 2; i++)
        {
            worker.Destinations.MarkUnavailable("mx.dead.example", _time.GetUtcNow() + TimeSpan.FromMinutes(30), "no MX host of it could be reached");
            await worker.RunOnceAsync(default);
            _time.Advance(TimeSpan.FromMinutes(30));
        }

        var events = await EventsAfter(Task.CompletedTask, 2);
        Assert.Equal([true, false], events.Select(e => e.IsDelayed));
        Assert.All(events, e => Assert.Null(e.Attempt));
        Assert.Empty(_sender.Sends);
        var attempt = Assert.Single((await queue.GetAsync(id))!.Recipients[0].Attempts);
        Assert.Equal(Start + TimeSpan.FromHours(2), attempt.StartedAt);
        Assert.Null(attempt.MxHost);
        Assert.Null(attempt.Reply);
        Assert.Equal($"Not tried: no MX host of it could be reached. The destination (mx.dead.example) is left alone until {Start + TimeSpan.FromHours(2.5):O}. (The delay warning was given.)", attempt.Detail);
    }

    [Fact]
    public async Task A_delay_warning_time_of_zero_gives_no_warning()
    {
        var (queue, worker) = await Create(o => { o.DelayWarningTime = TimeSpan.Zero; o.RetryIntervals.Add(TimeSpan.FromHours(3)); });
        await Enqueue(queue, "b@example.net");
        for (var i = 0; i < 4; i++)
        {
            await worker.RunOnceAsync(default);
            _time.Advance(TimeSpan.FromHours(3));
        }

        var events = await EventsAfter(Task.CompletedTask, 4);
        Assert.Equal(4, events.Count);
        Assert.DoesNotContain(events, e => e.IsDelayed);
    }

    [Fact]
    public async Task The_workers_shorter_maximum_age_expires_messages_queued_with_a_longer_one()
    {
        var (enqueuing, _) = await Create(o => o.MaxAge = TimeSpan.FromDays(5));
        var id = await Enqueue(enqueuing, "b@example.net");
        Assert.Equal(Start + TimeSpan.FromDays(5), (await enqueuing.GetAsync(id))!.ExpiresAt);
        var (_, worker) = await Create(o => { o.MaxAge = TimeSpan.FromHours(1); o.RetryIntervals.Add(TimeSpan.FromMinutes(40)); });

        await worker.RunOnceAsync(default);
        Assert.Equal(Start + TimeSpan.FromMinutes(40), (await enqueuing.GetAsync(id))!.Recipients[0].NextAttemptAt);
        _time.Advance(TimeSpan.FromMinutes(40));
        await worker.RunOnceAsync(default);
        Assert.Equal(Start + TimeSpan.FromHours(1), (await enqueuing.GetAsync(id))!.Recipients[0].NextAttemptAt); // the last attempt at the shorter age
        _time.Advance(TimeSpan.FromMinutes(20));
        await worker.RunOnceAsync(default);

        var r = (await enqueuing.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Expired, r.State);
        Assert.Equal([QueueRecipientState.Deferred, QueueRecipientState.Deferred, QueueRecipientState.Expired], r.Attempts.Select(a => a.Outcome));
        var expired = (await EventsAfter(Task.CompletedTask, 3)).Last(e => e.State == QueueRecipientState.Expired);
        Assert.Equal("Given up at the message's maximum age (01:00:00, DirectMail:Queue:MaxAge): still undelivered.", expired.Detail);
    }

    [Fact]
    public async Task A_stored_expiry_earlier_than_the_workers_maximum_age_still_wins()
    {
        var (enqueuing, _) = await Create(o => o.MaxAge = TimeSpan.FromHours(1));
        var id = await Enqueue(enqueuing, "b@example.net");
        var (_, worker) = await Create(o => { o.MaxAge = TimeSpan.FromDays(5); o.RetryIntervals.Add(TimeSpan.FromHours(2)); });

        await worker.RunOnceAsync(default);

        Assert.Equal(Start + TimeSpan.FromHours(1), (await enqueuing.GetAsync(id))!.Recipients[0].NextAttemptAt);
    }
}
