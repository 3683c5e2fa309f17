using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue;

/// <summary>
/// The queue and its worker through the real mailer against real servers on 127.0.29.0/24: scripted servers on port
/// 10225, and the aiosmtpd greylisting server (port 10025) for greylisting for real.
/// </summary>
[Trait("Category", "Integration")]
public sealed class QueueEndToEndTests
{
    private const int Port = 10225;
    private static int _nextAddress = 20;
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: sender@client.test\r\nTo: someone@queue.test\r\nSubject: queued\r\n\r\nHello from the queue.\r\n");

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.29.{Interlocked.Increment(ref _nextAddress)}");

    private static MailQueueOptions Options(params TimeSpan[] intervals)
    {
        var options = new MailQueueOptions { RetryJitter = 0, MinimumHintedDelay = TimeSpan.FromSeconds(1) };
        foreach (var i in intervals)
        {
            options.RetryIntervals.Add(i);
        }

        return options;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_recipients_are_in_flight_in_the_store_before_the_server_has_the_end_of_the_message(bool chunking)
    {
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, Options());
        string? id = null;
        var atEnd = new List<string>();
        var dialogue = new SmtpDialogue();
        if (chunking)
        {
            dialogue.EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 ENHANCEDSTATUSCODES";
        }

        dialogue.Respond = line =>
        {
            // The moment the server could take the message: the end of DATA, or the BDAT LAST command.
            if (line == "<end-of-data>" || line.EndsWith(" LAST", StringComparison.OrdinalIgnoreCase))
            {
                lock (atEnd)
                {
                    atEnd.Add(store.State(id!, 0) + " " + store.Log.Contains("marked " + id));
                }
            }

            return null;
        };

        // A slow commit: without the barrier the server would have the whole message before the mark completed.
        store.OnMarkInFlight = () => Task.Delay(300);
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["queue.test"] = [("mx.queue.test", 10, address)] };
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), resolver);
        var worker = new MailQueueWorker(queue, mailer);
        id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@queue.test"), SmtpContent.FromBytes(Body));

        await worker.RunOnceAsync(default);

        Assert.Equal(["InFlight True"], atEnd);
        Assert.Equal(Body, Assert.Single(dialogue.Messages));
        Assert.Equal(QueueRecipientState.Delivered, store.State(id, 0));
        Assert.Contains(chunking ? "BDAT" : "DATA", string.Join(" ", dialogue.Commands));
    }

    [Fact]
    public async Task A_greylisted_message_is_delivered_once_on_the_first_retry_after_the_greylisting_delay()
    {
        var address = NewAddress();
        using var greylist = new GreylistServer(address, TimeSpan.FromSeconds(2));
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, Options(TimeSpan.FromSeconds(3)));
        var resolver = new TableResolver { ["grey.test"] = [("mx.grey.test", 10, address)] };
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(TestAddresses.Delivery.Port), resolver);
        var worker = new MailQueueWorker(queue, mailer);
        var id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@grey.test"), SmtpContent.FromBytes(Body));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await worker.RunUntilEmptyAsync(timeout.Token);

        var stored = Assert.Single(greylist.Messages());
        Assert.Equal(Body, stored.Content);
        Assert.Equal(store.Content(id), stored.Content);
        Assert.Equal(["someone@grey.test"], stored.Recipients);
        Assert.Equal(2, greylist.RcptLog.Count);
        Assert.StartsWith("450 ", greylist.RcptLog[0], StringComparison.Ordinal);
        Assert.StartsWith("250 ", greylist.RcptLog[1], StringComparison.Ordinal);
        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Delivered, r.State);
        Assert.Equal(2, r.Attempts.Count);
        Assert.Equal("450 4.2.0 <someone@grey.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/deliver.test.html", r.Attempts[0].Reply);
        Assert.Equal("250 2.0.0 Ok: queued as GREY1", r.Attempts[1].Reply);
        Assert.Equal("mx.grey.test", r.Attempts[1].MxHost);
        Assert.Equal(address.ToString(), r.Attempts[1].ServerAddress);
        Assert.True(r.Attempts[1].StartedAt - r.Attempts[0].StartedAt >= TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_permanent_refusal_fails_the_recipient_with_the_exact_reply()
    {
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? "550 5.1.1 <nobody@queue.test>: Recipient address rejected: User unknown in local recipient table" : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, Options());
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), new TableResolver { ["queue.test"] = [("mx.queue.test", 10, address)] });
        var id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "nobody@queue.test"), SmtpContent.FromBytes(Body));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await new MailQueueWorker(queue, mailer).RunUntilEmptyAsync(timeout.Token);

        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Failed, r.State);
        var attempt = Assert.Single(r.Attempts);
        Assert.Equal("550 5.1.1 <nobody@queue.test>: Recipient address rejected: User unknown in local recipient table", attempt.Reply);
        Assert.Equal("mx.queue.test", attempt.MxHost);
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task SendAsync_hands_what_it_defers_to_the_queue_and_the_worker_delivers_it_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var rcpts = 0;
        var dialogue = new SmtpDialogue
        {
            Respond = line => line.StartsWith("RCPT TO:<later@", StringComparison.Ordinal) && Interlocked.Increment(ref rcpts) == 1
                ? "450 4.2.0 <later@queue.test>: Recipient address rejected: Greylisted, please try again in 180 seconds"
                : null,
        };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, Options(), null, time);
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), new TableResolver { ["queue.test"] = [("mx.queue.test", 10, address)] }) { OnDeferred = queue };

        var report = await mailer.SendAsync(new SmtpEnvelope("sender@client.test", "now@queue.test", "later@queue.test"), SmtpContent.FromBytes(Body));

        Assert.Equal(DeliveryStatus.Delivered, report.Recipients[0].Status);
        Assert.Null(report.Recipients[0].QueueId);
        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[1].Status);
        var id = report.Recipients[1].QueueId;
        Assert.NotNull(id);
        var queued = (await queue.GetAsync(id))!;
        var r = Assert.Single(queued.Recipients);
        Assert.Equal("later@queue.test", r.Address);
        Assert.Equal(QueueRecipientState.Deferred, r.State);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(180), r.NextAttemptAt);
        Assert.Equal("450 4.2.0 <later@queue.test>: Recipient address rejected: Greylisted, please try again in 180 seconds", Assert.Single(r.Attempts).Reply);
        Assert.Equal(Body, store.Content(id));

        var worker = new MailQueueWorker(queue, mailer);
        Assert.Equal(0, await worker.RunOnceAsync(default));
        time.Advance(TimeSpan.FromSeconds(180));
        Assert.Equal(1, await worker.RunOnceAsync(default));

        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(id))!.Recipients[0].State);
        Assert.Equal(2, dialogue.Messages.Count); // one for now@, one for later@ on the retry
        Assert.Equal(1, store.Enqueues);
    }

    [Fact]
    public async Task A_deferred_recipient_handed_to_the_queue_is_retried_with_its_DSN_parameters_on_the_wire()
    {
        // Stops: the retry of a handed-off recipient losing what the first attempt sent (NOTIFY, ORCPT, RET, ENVID).
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var rcpts = 0;
        var dialogue = new SmtpDialogue
        {
            EhloReply = "250-mx.queue.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 DSN",
            Respond = line => line.StartsWith("RCPT TO:<later@", StringComparison.Ordinal) && Interlocked.Increment(ref rcpts) == 1
                ? "450 4.2.0 Greylisted, please try again in 60 seconds"
                : null,
        };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var queue = new MailQueue(new InMemoryQueueStore(), Options(), null, time);
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), new TableResolver { ["queue.test"] = [("mx.queue.test", 10, address)] }) { OnDeferred = queue };
        var envelope = new SmtpEnvelope("sender@client.test", new SmtpRecipient[]
        {
            new("now@queue.test", DsnNotify.Never),
            new("later@queue.test", DsnNotify.Failure | DsnNotify.Delay, "list+later@example.org"),
        })
        {
            DsnReturn = DsnReturn.Headers,
            DsnEnvelopeId = "hand-off-1",
        };

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Body));
        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[1].Status);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await new MailQueueWorker(queue, mailer).RunOnceAsync(default));

        var later = "RCPT TO:<later@queue.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;list+2Blater@example.org";
        Assert.Equal(2, dialogue.Commands.Count(c => c == later)); // the first attempt and the queue's retry
        Assert.Equal(1, dialogue.Commands.Count(c => c == "RCPT TO:<now@queue.test> NOTIFY=NEVER"));
        Assert.Equal(2, dialogue.Commands.Count(c => c.StartsWith("MAIL FROM:<sender@client.test>", StringComparison.Ordinal) && c.EndsWith(" RET=HDRS ENVID=hand-off-1", StringComparison.Ordinal)));
        Assert.Equal(2, dialogue.Messages.Count);
    }

    [Fact]
    public async Task The_workers_own_deferrals_are_never_handed_off_again()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? "451 4.3.0 Try again later" : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, Options(), null, time);
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), new TableResolver { ["queue.test"] = [("mx.queue.test", 10, address)] }) { OnDeferred = queue };
        var id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@queue.test"), SmtpContent.FromBytes(Body));

        await new MailQueueWorker(queue, mailer).RunOnceAsync(default);

        Assert.Equal(1, store.Enqueues);
        var r = (await queue.GetAsync(id))!.Recipients[0];
        Assert.Equal(QueueRecipientState.Deferred, r.State);
        Assert.Equal("451 4.3.0 Try again later", Assert.Single(r.Attempts).Reply);
    }

    [Fact]
    public async Task Held_messages_make_no_connection_until_released_and_bounce_and_delete_end_them()
    {
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, Options());
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), new TableResolver { ["queue.test"] = [("mx.queue.test", 10, address)] });
        var worker = new MailQueueWorker(queue, mailer);
        var held = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "a@queue.test"), SmtpContent.FromBytes(Body));
        var bounced = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "b@queue.test"), SmtpContent.FromBytes(Body));
        var deleted = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "c@queue.test"), SmtpContent.FromBytes(Body));
        Assert.Equal(3, await queue.HoldAsync(null));

        Assert.Equal(0, await worker.RunOnceAsync(default));
        Assert.Equal(0, server.Accepted);

        Assert.Equal(1, await queue.BounceAsync(bounced));
        Assert.Equal(1, await queue.DeleteAsync(deleted));
        Assert.Equal(1, await queue.ReleaseAsync(held));
        Assert.Equal(1, await worker.RunOnceAsync(default));

        Assert.Equal(Body, Assert.Single(dialogue.Messages));
        Assert.Equal(["RCPT TO:<a@queue.test>"], dialogue.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
        Assert.Equal(QueueRecipientState.Delivered, (await queue.GetAsync(held))!.Recipients[0].State);
        Assert.Equal(QueueRecipientState.Failed, (await queue.GetAsync(bounced))!.Recipients[0].State);
        Assert.Null(await queue.GetAsync(deleted));
    }

    [Fact]
    public async Task A_dead_destination_gets_one_connection_per_worker_slot_not_one_per_message()
    {
        // Accepts and drops at once, without a greeting: no MX host of the destination replies.
        var address = NewAddress();
        await using var dead = ScriptedSmtpServer.Start(c => { c.Close(); return Task.CompletedTask; }, new IPEndPoint(address, Port));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var store = new InMemoryQueueStore();
        var options = Options();
        options.MaxConcurrentDeliveries = 4;
        options.ClaimBatchSize = 4;
        var queue = new MailQueue(store, options, null, time);
        var resolver = new TableResolver { ["dead.test"] = [("mx.dead.test", 10, address)], ["also-dead.test"] = [("mx.dead.test", 10, address)] };
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), resolver);
        var ids = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            ids.Add(await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", $"r{i}@{(i % 2 == 0 ? "dead.test" : "also-dead.test")}"), SmtpContent.FromBytes(Body)));
        }

        using var stop = new CancellationTokenSource();
        var run = new MailQueueWorker(queue, mailer).RunAsync(stop.Token);
        for (var i = 0; i < 1000 && (await queue.GetStatisticsAsync()).RecipientsByState.GetValueOrDefault(QueueRecipientState.Deferred) < 200; i++)
        {
            await Task.Delay(20);
        }

        stop.Cancel();
        await run;

        var messages = new List<QueuedMessage>();
        foreach (var id in ids)
        {
            messages.Add((await queue.GetAsync(id))!);
        }

        Assert.All(messages, m => Assert.Equal(QueueRecipientState.Deferred, m.Recipients[0].State));
        var tried = messages.Count(m => m.Recipients[0].Attempts.Count == 1);
        Assert.InRange(dead.Accepted, 1, 4);
        Assert.Equal(dead.Accepted, tried);
        Assert.All(messages, m => Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(330), m.Recipients[0].NextAttemptAt));
    }
}
