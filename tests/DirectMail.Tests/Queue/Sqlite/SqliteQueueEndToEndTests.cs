using System;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DirectMail.Tests.Queue.Sqlite;

/// <summary>
/// The queue over the real SQLite store, through the real mailer, to the aiosmtpd greylisting server on
/// 127.0.29.200+: the fault it stops is a deferred message lost when the process that queued it goes away.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SqliteQueueEndToEndTests : IDisposable
{
    private static int _nextAddress = 200;
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: sender@client.test\r\nTo: someone@grey.test\r\nSubject: kept\r\n\r\nKept across a restart.\r\n");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-sqlite-e2e-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.29.{Interlocked.Increment(ref _nextAddress)}");

    private static MailQueueOptions Options()
    {
        var options = new MailQueueOptions { RetryJitter = 0, MinimumHintedDelay = TimeSpan.FromSeconds(1) };
        options.RetryIntervals.Add(TimeSpan.FromSeconds(3));
        return options;
    }

    [Fact]
    public async Task A_message_enqueued_before_a_restart_is_delivered_once_by_the_next_process_after_greylisting()
    {
        var address = NewAddress();
        using var greylist = new GreylistServer(address, TimeSpan.FromSeconds(2));
        var resolver = new TableResolver { ["grey.test"] = [("mx.grey.test", 10, address)] };

        // The first "process": enqueue, then go away without delivering anything.
        string id;
        await using (var store = new SqliteMailQueueStore(_directory))
        await using (var queue = new MailQueue(store, Options()))
        {
            id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@grey.test"), SmtpContent.FromBytes(Body));
        }

        Assert.Empty(greylist.Messages());

        // The second: a new store on the same directory, and a worker.
        await using (var store = new SqliteMailQueueStore(_directory))
        await using (var queue = new MailQueue(store, Options()))
        await using (var mailer = new DirectMailer(LoopbackMailerOptions.Create(TestAddresses.Delivery.Port), resolver))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await new MailQueueWorker(queue, mailer).RunUntilEmptyAsync(timeout.Token);
        }

        var stored = Assert.Single(greylist.Messages());
        Assert.Equal(Body, stored.Content);
        Assert.Equal(["someone@grey.test"], stored.Recipients);
        Assert.Equal(2, greylist.RcptLog.Count);

        // A third opening sees the outcome and the history the worker recorded.
        await using (var store = new SqliteMailQueueStore(_directory))
        {
            var message = await store.GetAsync(id, default);
            var r = Assert.Single(message!.Recipients);
            Assert.Equal(QueueRecipientState.Delivered, r.State);
            Assert.Equal(2, r.Attempts.Count);
            Assert.Equal(QueueRecipientState.Deferred, r.Attempts[0].Outcome);
            Assert.StartsWith("450 4.2.0 <someone@grey.test>", r.Attempts[0].Reply, StringComparison.Ordinal);
            Assert.Equal("250 2.0.0 Ok: queued as GREY1", r.Attempts[1].Reply);
        }
    }

    [Fact]
    public async Task AddSqliteQueue_hands_what_SendAsync_defers_to_the_store_in_the_directory()
    {
        var address = NewAddress();
        using var greylist = new GreylistServer(address, TimeSpan.FromSeconds(60));
        var services = new ServiceCollection();
        services.AddSingleton<IMxResolver>(new TableResolver { ["grey.test"] = [("mx.grey.test", 10, address)] });
        services.AddDirectMail(o =>
        {
            o.HeloName = "client.test";
            o.Port = TestAddresses.Delivery.Port;
            o.AllowPrivateTargets = true;
            o.MaxRetryAttempts = 0;
            o.TlsMode = SmtpTlsMode.None;
        }).AddSqliteQueue(_directory);

        DeliveryReport report;
        await using (var provider = services.BuildServiceProvider())
        {
            var mailer = provider.GetRequiredService<IDirectMailer>();
            report = await mailer.SendAsync(new SmtpEnvelope("sender@client.test", "someone@grey.test"), SmtpContent.FromBytes(Body));
        }

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, recipient.Status);
        Assert.NotNull(recipient.QueueId);

        // The container is gone; the store on disk has the message, deferred with the greylisting reply.
        await using var store = new SqliteMailQueueStore(_directory);
        var message = await store.GetAsync(recipient.QueueId!, default);
        var r = Assert.Single(message!.Recipients);
        Assert.Equal(QueueRecipientState.Deferred, r.State);
        Assert.StartsWith("450 4.2.0 <someone@grey.test>", Assert.Single(r.Attempts).Reply, StringComparison.Ordinal);
        Assert.Empty(greylist.Messages());
        await using var content = await store.OpenContentAsync(recipient.QueueId!, default);
        var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        Assert.Equal(Body, copy.ToArray());
    }
}
