using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>
/// Concurrent producers enqueueing straight into a store, each waiting for its message to be durable before the next,
/// as application threads do: the store benchmarks' one workload, so the SQLite and PostgreSQL figures compare.
/// </summary>
internal static class StoreProducers
{
    /// <summary>Runs <paramref name="producers"/> producers of <paramref name="messagesPerProducer"/> messages each.</summary>
    /// <param name="store">The store.</param>
    /// <param name="content">Every message's content.</param>
    /// <param name="producers">How many producers at once.</param>
    /// <param name="messagesPerProducer">How many messages each enqueues.</param>
    /// <param name="batch">A prefix that keeps the queue ids of one iteration apart from another's.</param>
    public static async Task EnqueueAsync(IMailQueueStore store, byte[] content, int producers, int messagesPerProducer, int batch)
    {
        var tasks = new Task[producers];
        for (var p = 0; p < producers; p++)
        {
            var producer = p;
            tasks[p] = Task.Run(async () =>
            {
                var now = DateTimeOffset.UtcNow;
                for (var n = 0; n < messagesPerProducer; n++)
                {
                    var entry = new QueueEntry($"{batch:D4}-{producer}-{n:D6}", "bench@example.test",
                        [new QueueEntryRecipient("rcpt@example.test", QueueRecipientState.Queued, now)],
                        SmtpBodyType.EightBit, false, now, now.AddDays(5));
                    await store.EnqueueAsync(entry, new MemoryStream(content, writable: false), CancellationToken.None);
                }
            });
        }

        await Task.WhenAll(tasks);
    }
}
