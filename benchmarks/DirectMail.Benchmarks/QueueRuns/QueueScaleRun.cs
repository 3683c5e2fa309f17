using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks.QueueRuns;

/// <summary>
/// <c>queue-scale [MESSAGES] [RECIPIENTS] [SIZE] [DIRECTORY]</c> (default 100,000 × 10 × 10 KB in the temporary
/// directory): the issue's "one million deferred recipients" measurement, process-level.
/// <list type="number">
/// <item>Fill: MESSAGES messages of SIZE octets, each with RECIPIENTS recipients Deferred (with the attempt that
/// deferred them) and due between one and 24 hours from now. Filled through the store's own
/// <see cref="IMailQueueStore.EnqueueAsync"/>, 1,024 calls in flight, so the group commit writes batches of up to its
/// limit (512). A directory already filled (it holds <c>filled.txt</c>) is reused.</item>
/// <item>One message due now is added (one recipient at d00.deliverbench.test).</item>
/// <item>Restart: a new process (<c>queue-scale-restart DIRECTORY</c>) opens the store, starts a
/// <see cref="MailQueueWorker"/> delivering to the delivery rig (NSD and smtp-sink on loopback, started by this
/// process beforehand) and reports the time from its own start to the first delivery, the time of
/// <see cref="MailQueue.GetStatisticsAsync"/> and of one collection of the queue's observable gauges, and its peak
/// resident memory (<c>VmHWM</c> of <c>/proc/self/status</c>).</item>
/// </list>
/// The store's size on disk is printed after the fill and after the restart.
/// </summary>
internal static class QueueScaleRun
{
    private const string FilledMarker = "filled.txt";

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var recipients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var size = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10 * 1024;
        var directory = args.Length > 3 ? args[3] : Path.Combine(Path.GetTempPath(), $"dm-queue-scale-{messages}x{recipients}x{size}");
        if (!File.Exists(Path.Combine(directory, FilledMarker)))
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            await FillAsync(directory, messages, recipients, size);
        }

        Console.WriteLine($"store {directory}: {DiskSize(directory)}");
        await AddDueMessageAsync(directory);
        using var rig = new DeliveryBenchmarkRig();
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("queue-scale-restart");
        start.ArgumentList.Add(directory);
        using var child = Process.Start(start) ?? throw new InvalidOperationException("The restart process did not start.");
        string? line;
        while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
        {
            Console.WriteLine("restart: " + line);
        }

        await child.WaitForExitAsync();
        Console.WriteLine($"store {directory} after the restart: {DiskSize(directory)}");
        return child.ExitCode;
    }

    /// <summary>The restart process: from its start to the first delivery, then the statistics and the memory.</summary>
    public static async Task<int> RestartAsync(string[] args)
    {
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        var clock = Stopwatch.StartNew();
        var directory = args[0];
        await using var store = new SqliteMailQueueStore(directory);
        var opened = clock.Elapsed;
        await using var queue = new MailQueue(store);
        await using var mailer = new DirectMailer(DeliveryBenchmarkRig.MailerOptions(1));
        var worker = new MailQueueWorker(queue, mailer);
        using var stop = new CancellationTokenSource();
        var delivered = new TaskCompletionSource<MailQueueEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = Task.Run(async () =>
        {
            await foreach (var item in queue.ReadEventsAsync(stop.Token))
            {
                if (item.State == QueueRecipientState.Delivered)
                {
                    delivered.TrySetResult(item);
                    return;
                }

                Console.WriteLine($"event: {item.QueueId} {item.Address} {item.State} {item.Detail}");
            }
        });
        var running = worker.RunAsync(stop.Token);
        var first = await delivered.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var firstDelivery = clock.Elapsed;
        Print($"first delivery ({first.QueueId} to {first.Address}) {(sinceStart + firstDelivery).TotalSeconds:F3} s after the process started " +
            $"({sinceStart.TotalSeconds:F3} s runtime start, {opened.TotalSeconds:F3} s opening the store, {(firstDelivery - opened).TotalSeconds:F3} s to the delivery)");

        clock.Restart();
        var statistics = await queue.GetStatisticsAsync();
        var statisticsTime = clock.Elapsed;
        var byState = new List<string>();
        foreach (var (state, count) in statistics.RecipientsByState)
        {
            byState.Add($"{state} {count}");
        }

        Print($"GetStatisticsAsync {statisticsTime.TotalMilliseconds:F1} ms: {string.Join(", ", byState)}; {statistics.Messages} messages pending, " +
            $"next due {statistics.NextDueAt:O}, {statistics.Attempts} attempts");

        clock.Restart();
        var measurements = 0;
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == DirectMailTelemetry.MeterName && instrument.Name.StartsWith("directmail.queue.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, _, _, _) => measurements++);
            listener.SetMeasurementEventCallback<double>((_, _, _, _) => measurements++);
            listener.Start();
            listener.RecordObservableInstruments();
        }

        Print($"queue gauges collected in {clock.Elapsed.TotalMilliseconds:F1} ms ({measurements} measurements)");
        await stop.CancelAsync();
        await running;
        await events;
        Print($"peak memory (VmHWM) {Status("VmHWM")}, resident now (VmRSS) {Status("VmRSS")}, managed heap {GC.GetTotalMemory(false) / (1024 * 1024)} MB");
        return 0;
    }

    private static async Task FillAsync(string directory, int messages, int recipients, int size)
    {
        var content = Infrastructure.BenchmarkMessages.Create(size);
        var counter = new SyncCounter();
        var clock = Stopwatch.StartNew();
        var store = new SqliteMailQueueStore(directory, logger: counter);
        await using (store)
        {
            var now = DateTimeOffset.UtcNow;
            var next = -1;
            var producers = new Task[1024];
            for (var p = 0; p < producers.Length; p++)
            {
                producers[p] = Task.Run(async () =>
                {
                    var random = new Random(p);
                    int n;
                    while ((n = Interlocked.Increment(ref next)) < messages)
                    {
                        var entry = new QueueEntryRecipient[recipients];
                        for (var r = 0; r < recipients; r++)
                        {
                            var domain = DeliveryBenchmarkRig.Domain((n * recipients) + r);
                            var attempt = new QueueAttempt(now.AddMinutes(-5), QueueRecipientState.Deferred, "451 4.7.1 Greylisted, try again later",
                                "mx." + domain, DeliveryBenchmarkRig.Sink.Address.ToString(), null);
                            entry[r] = new QueueEntryRecipient($"user{n}-{r}@{domain}", QueueRecipientState.Deferred,
                                now.AddSeconds(3600 + random.Next(23 * 3600)), attempt);
                        }

                        var id = "scale-" + n.ToString("D8", CultureInfo.InvariantCulture);
                        await store.EnqueueAsync(new QueueEntry(id, Infrastructure.BenchmarkMessages.Sender, entry, SmtpBodyType.SevenBit, false, now, now.AddDays(5)),
                            new MemoryStream(content, writable: false), CancellationToken.None);
                    }
                });
            }

            await Task.WhenAll(producers);
        }

        var summary = string.Create(CultureInfo.InvariantCulture,
            $"filled {messages} messages × {recipients} deferred recipients ({(long)messages * recipients} recipients, {size} octets each) " +
            $"through EnqueueAsync with 1,024 calls in flight, in {clock.Elapsed.TotalSeconds:F1} s ({messages / clock.Elapsed.TotalSeconds:F0} messages/s; {counter})");
        Console.WriteLine(summary);
        await File.WriteAllTextAsync(Path.Combine(directory, FilledMarker), summary + "\n");
    }

    /// <summary>The one message due now, added before every restart (the last restart delivered the previous one).</summary>
    private static async Task AddDueMessageAsync(string directory)
    {
        var clock = Stopwatch.StartNew();
        await using var store = new SqliteMailQueueStore(directory);
        var opened = clock.Elapsed;
        var now = DateTimeOffset.UtcNow;
        var id = "scale-due-" + now.UtcTicks.ToString(CultureInfo.InvariantCulture);
        var due = new QueueEntryRecipient("due@" + DeliveryBenchmarkRig.Domain(0), QueueRecipientState.Queued, now);
        await store.EnqueueAsync(new QueueEntry(id, Infrastructure.BenchmarkMessages.Sender, [due], SmtpBodyType.SevenBit, false, now, now.AddDays(5)),
            new MemoryStream(Infrastructure.BenchmarkMessages.Create(10 * 1024), writable: false), CancellationToken.None);
        Console.WriteLine($"added {id}, due now (the store opened in {opened.TotalSeconds:F3} s, a schema upgrade included if there was one)");
    }

    private static string DiskSize(string directory)
    {
        var parts = new List<string>();
        foreach (var file in Directory.GetFiles(directory, "queue.db*"))
        {
            parts.Add($"{Path.GetFileName(file)} {new FileInfo(file).Length / (1024.0 * 1024):F1} MB");
        }

        return string.Join(", ", parts);
    }

    private static string Status(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                return line[(key.Length + 1)..].Trim();
            }
        }

        return "?";
    }

    private static void Print(string line) => Console.WriteLine(line);
}
