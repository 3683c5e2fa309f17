using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.QueueCrashProbe;

/// <summary>
/// A delivery worker as an application runs one, through the public API without DI: a store, a
/// <see cref="MailQueue"/> with a short retry schedule and lease, a <see cref="DirectMailer"/> whose resolver asks the
/// test DNS, and <see cref="MailQueueWorker.RunAsync"/> (or <see cref="MailQueueWorker.RunUntilEmptyAsync"/>).
/// SIGTERM and SIGINT stop it the graceful way; the tests kill it with SIGKILL instead.
/// </summary>
/// <remarks>
/// Standard output, for the test that drives it: <c>started</c> once the worker runs; <c>progress delivered=N
/// indoubt=N deferred=N failed=N expired=N</c> every quarter second from the queue's events; <c>stopped</c> when it
/// returned. Warnings and errors go to standard error.
/// </remarks>
internal static class WorkerProbe
{
    public const string Usage =
        "--store " + ProbeStores.Syntax + " --dns ADDRESS:PORT --port SMTP-PORT [--helo NAME] [--lease SECONDS] " +
        "[--retry SECONDS] [--concurrency N] [--until-empty]";

    public static async Task<int> RunAsync(string[] args)
    {
        string? storeSpec = null, dns = null, helo = "crash-probe.test";
        int? port = null;
        var lease = TimeSpan.FromSeconds(3);
        var retry = TimeSpan.FromSeconds(1);
        var concurrency = 16;
        var untilEmpty = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");
            switch (args[i])
            {
                case "--store": storeSpec = Value(); break;
                case "--dns": dns = Value(); break;
                case "--port": port = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--helo": helo = Value(); break;
                case "--lease": lease = Seconds(Value()); break;
                case "--retry": retry = Seconds(Value()); break;
                case "--concurrency": concurrency = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--until-empty": untilEmpty = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}; usage: worker {Usage}");
            }
        }

        if (storeSpec is null || dns is null || port is null)
        {
            Console.Error.WriteLine("usage: worker " + Usage);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var loggerFactory = new StderrLoggerFactory();
        await using var store = ProbeStores.Open(storeSpec, loggerFactory);
        var queueOptions = new MailQueueOptions
        {
            LeaseDuration = lease,
            RetryJitter = 0,
            IdlePollInterval = TimeSpan.FromSeconds(1),
            MaxConcurrentDeliveries = concurrency,
            EventCapacity = 1 << 16,
        };
        queueOptions.RetryIntervals.Add(retry);
        await using var queue = new MailQueue(store, queueOptions, loggerFactory);
        var mailerOptions = new DirectMailOptions
        {
            HeloName = helo,
            Port = port.Value,
            TlsMode = SmtpTlsMode.None,
            AllowPrivateTargets = true,
            NameServers = { dns },
            MaxRetryAttempts = 0,
        };
        await using var mailer = new DirectMailer(mailerOptions, loggerFactory: loggerFactory);
        var worker = new MailQueueWorker(queue, mailer, loggerFactory);

        var counts = new Dictionary<QueueRecipientState, int>();
        using var stopEvents = new CancellationTokenSource();
        var events = CountEventsAsync(queue, counts, stopEvents.Token);
        var progress = ReportAsync(counts, stopEvents.Token);
        Console.Out.WriteLine("started");
        Console.Out.Flush();
        try
        {
            await (untilEmpty ? worker.RunUntilEmptyAsync(stop.Token) : worker.RunAsync(stop.Token));
        }
        finally
        {
            // The last events of the run are published before RunAsync returns; let the reader take them.
            await Task.Delay(100);
            stopEvents.Cancel();
            await events;
            await progress;
            Print(counts);
        }

        Console.Out.WriteLine("stopped");
        Console.Out.Flush();
        return 0;
    }

    private static TimeSpan Seconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));

    private static async Task CountEventsAsync(MailQueue queue, Dictionary<QueueRecipientState, int> counts, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in queue.ReadEventsAsync(cancellationToken))
            {
                lock (counts)
                {
                    counts[item.State] = counts.GetValueOrDefault(item.State) + 1;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task ReportAsync(Dictionary<QueueRecipientState, int> counts, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                Print(counts);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void Print(Dictionary<QueueRecipientState, int> counts)
    {
        string line;
        lock (counts)
        {
            line = string.Create(CultureInfo.InvariantCulture,
                $"progress delivered={counts.GetValueOrDefault(QueueRecipientState.Delivered)} indoubt={counts.GetValueOrDefault(QueueRecipientState.InDoubt)} deferred={counts.GetValueOrDefault(QueueRecipientState.Deferred)} failed={counts.GetValueOrDefault(QueueRecipientState.Failed)} expired={counts.GetValueOrDefault(QueueRecipientState.Expired)}");
        }

        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
