using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;

namespace DirectMail.QueueCrashProbe;

/// <summary>
/// Enqueues into the SQLite store in a directory from 8 tasks until killed, printing each queue id only after
/// EnqueueAsync returned: every id printed is a promise that the message survives the kill. Each content starts with
/// the SHA-256 of the rest, so a checker can tell an intact message from a torn one.
/// </summary>
internal static class EnqueueProbe
{
    public static async Task<int> RunAsync(string directory)
    {
        var store = new SqliteMailQueueStore(directory);
        var output = Console.Out;
        var gate = new object();
        var now = DateTimeOffset.UtcNow;

        async Task ProduceAsync(int producer)
        {
            var random = new Random(Environment.ProcessId * 31 + producer);
            for (var n = 0; ; n++)
            {
                var id = $"{DateTime.UtcNow.Ticks:D19}-{Environment.ProcessId}-{producer}-{n:D7}";
                // Mostly small messages, now and then one of several 256 KiB parts (the streamed path).
                var body = new byte[random.Next(8) == 0 ? random.Next(300_000, 700_000) : random.Next(1, 20_000)];
                random.NextBytes(body);
                var content = new byte[32 + body.Length];
                SHA256.HashData(body, content);
                body.CopyTo(content, 32);
                var entry = new QueueEntry(id, "probe@example.test",
                    [new QueueEntryRecipient($"r{n}@example.test", QueueRecipientState.Queued, now)],
                    SmtpBodyType.EightBit, false, now, now.AddDays(5));
                await store.EnqueueAsync(entry, new MemoryStream(content), CancellationToken.None);
                lock (gate)
                {
                    // The ';' ends a whole line: a line torn by the kill has none and promises nothing.
                    output.WriteLine(id + ";");
                    output.Flush();
                }
            }
        }

        var producers = new Task[8];
        for (var i = 0; i < producers.Length; i++)
        {
            var producer = i;
            producers[i] = Task.Run(() => ProduceAsync(producer));
        }

        await Task.WhenAll(producers);
        return 0;
    }
}
