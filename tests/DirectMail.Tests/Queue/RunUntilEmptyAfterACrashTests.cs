using System;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Tests.Queue;

/// <summary>
/// RunUntilEmptyAsync after a worker was killed: what that worker had marked InFlight is not due (it may have been
/// sent), but it is not final either. Found while building the worker crash tests (Queue/Crash), whose last run
/// until empty comes right after a kill: it returned at once and left those recipients InFlight for good, not InDoubt.
/// </summary>
public sealed class RunUntilEmptyAfterACrashTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@sender.example\r\nTo: b@example.net\r\nSubject: queued\r\n\r\nHello.\r\n");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryQueueStore _store = new();
    private readonly FakeQueueSender _sender = new();

    [Fact]
    public async Task Run_until_empty_waits_out_a_dead_workers_lease_and_leaves_its_recipients_in_doubt_not_in_flight()
    {
        var queue = new MailQueue(_store, new MailQueueOptions { RetryJitter = 0, LeaseDuration = TimeSpan.FromMinutes(2) }, null, _time, new Random(1));
        var worker = new MailQueueWorker(queue, _sender, null);
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net"), SmtpContent.FromBytes(Body));

        // A first worker claimed the message, marked its recipient, wrote the end of the message and was killed.
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
}
