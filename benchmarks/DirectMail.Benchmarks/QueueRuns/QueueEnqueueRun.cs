using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks.QueueRuns;

/// <summary>
/// <c>queue-enqueue [SIZE] [PRODUCERS] [MESSAGES] [ROUNDS]</c>: durable <see cref="IMailQueueStore.EnqueueAsync"/> on
/// the SQLite store from concurrent producers, timed with a stopwatch in one process, without BenchmarkDotNet's
/// iterations (a quick figure while tuning; <see cref="QueueStoreBenchmarks"/> is the measured one). Each round uses
/// a fresh store in the temporary directory and prints messages per second.
/// </summary>
internal static class QueueEnqueueRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var size = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10 * 1024;
        var producers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
        var messages = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10_000;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var content = new byte[size];
        new Random(size).NextBytes(content);
        for (var round = 0; round < rounds; round++)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"dm-queue-enqueue-{Environment.ProcessId}-{round}");
            var counter = new SyncCounter();
            var store = new SqliteMailQueueStore(directory, logger: counter);
            try
            {
                var next = -1;
                var clock = Stopwatch.StartNew();
                var tasks = new Task[producers];
                for (var p = 0; p < producers; p++)
                {
                    tasks[p] = Task.Run(async () =>
                    {
                        int n;
                        while ((n = Interlocked.Increment(ref next)) < messages)
                        {
                            var now = DateTimeOffset.UtcNow;
                            var entry = new QueueEntry(n.ToString("D8", CultureInfo.InvariantCulture), "bench@example.test",
                                [new QueueEntryRecipient("rcpt@example.test", QueueRecipientState.Queued, now)],
                                SmtpBodyType.EightBit, false, now, now.AddDays(5));
                            await store.EnqueueAsync(entry, new MemoryStream(content, writable: false), CancellationToken.None);
                        }
                    });
                }

                await Task.WhenAll(tasks);
                clock.Stop();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: {messages} messages of {size} octets from {producers} producers in {clock.Elapsed.TotalSeconds:F2} s: {messages / clock.Elapsed.TotalSeconds:F0} messages/s; {counter}"));
            }
            finally
            {
                await store.DisposeAsync();
                Directory.Delete(directory, recursive: true);
            }
        }

        return 0;
    }
}
