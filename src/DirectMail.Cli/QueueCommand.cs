using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;

namespace DirectMail.Cli;

/// <summary>
/// <c>directmail queue</c>: look at and act on the durable queue that <c>send --queue</c> fills (list, show, hold,
/// release, flush, delete, bounce), and deliver what it holds (run).
/// </summary>
internal static class QueueCommand
{
    private const string StoreDescription = "The queue.";

    public static Command Create()
    {
        var command = new Command("queue", "The durable queue: what 'send --queue' keeps, delivered by 'queue run' on a retry schedule until every recipient is delivered, failed or expired.")
        {
            List(),
            Show(),
            Operation("hold", "Hold the queued and deferred recipients of a message (or of every message): not tried until released.", QueueOperation.Hold),
            Operation("release", "Release held and in-doubt recipients of a message (or of every message): due now (an in-doubt recipient may get a second copy).", QueueOperation.Release),
            Operation("flush", "Make the queued and deferred recipients of a message (or of every message) due now.", QueueOperation.Flush),
            Operation("delete", "Remove a message and its history from the queue.", QueueOperation.Delete),
            Operation("bounce", "Fail every recipient of a message that is not delivered yet (as if refused for good).", QueueOperation.Bounce),
            Run(),
        };
        return command;
    }

    private static Command List()
    {
        var queue = QueueStore.Option(StoreDescription, required: true);
        var all = new Option<bool>("--all") { Description = "List every message, with those whose recipients all have a final outcome (default: pending messages only)." };
        var json = new Option<bool>("--json") { Description = "Print the messages as JSON." };
        var command = new Command("list", "List the messages in the queue, oldest first: id, age, sender, and each recipient's state.") { queue, all, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = QueueStore.Open(parse.GetRequiredValue(queue)!, create: false);
            var messages = new List<QueuedMessage>();
            string? after = null;
            while (true)
            {
                var page = 0;
                await foreach (var message in store.Queue.ListAsync(pendingOnly: !parse.GetValue(all), after, 100, cancellationToken).ConfigureAwait(false))
                {
                    messages.Add(message);
                    after = message.MessageId;
                    page++;
                }

                if (page < 100)
                {
                    break;
                }
            }

            if (parse.GetValue(json))
            {
                var items = new List<QueueMessageJson>(messages.Count);
                foreach (var message in messages)
                {
                    items.Add(QueueDescribe.ToJson(message));
                }

                QueueDescribe.PrintJson(new QueueListJson { Messages = items }, CliJsonContext.Readable.QueueListJson, Console.Out);
                return ExitCodes.Success;
            }

            if (messages.Count == 0)
            {
                Console.Out.WriteLine(parse.GetValue(all) ? "The queue is empty." : "No pending messages.");
                return ExitCodes.Success;
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var message in messages)
            {
                QueueDescribe.PrintSummary(message, now, Console.Out);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show()
    {
        var queue = QueueStore.Option(StoreDescription, required: true);
        var id = new Argument<string>("ID") { Description = "The queue id, as 'send --queue' and 'queue list' print it." };
        var json = new Option<bool>("--json") { Description = "Print the message as JSON." };
        var command = new Command("show", "Show one message: every recipient with its state, its next attempt, and every attempt's time, reply, MX host, address and detail.") { id, queue, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = QueueStore.Open(parse.GetRequiredValue(queue)!, create: false);
            var message = await FindAsync(store, parse.GetRequiredValue(id), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                QueueDescribe.PrintJson(QueueDescribe.ToJson(message), CliJsonContext.Readable.QueueMessageJson, Console.Out);
            }
            else
            {
                QueueDescribe.PrintMessage(message, DateTimeOffset.UtcNow, Console.Out);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>hold, release and flush take an optional id (none: every message); delete and bounce need one.</summary>
    private static Command Operation(string name, string description, QueueOperation operation)
    {
        var optionalId = operation is QueueOperation.Hold or QueueOperation.Release or QueueOperation.Flush;
        var queue = QueueStore.Option(StoreDescription, required: true);
        var id = new Argument<string?>("ID")
        {
            Description = optionalId ? "The queue id; without it, every message." : "The queue id.",
            Arity = optionalId ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
        };
        var command = new Command(name, description) { id, queue };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = QueueStore.Open(parse.GetRequiredValue(queue)!, create: false);
            var queueId = parse.GetValue(id);
            if (queueId is not null)
            {
                await FindAsync(store, queueId, cancellationToken).ConfigureAwait(false);
            }

            var changed = operation switch
            {
                QueueOperation.Hold => await store.Queue.HoldAsync(queueId, cancellationToken).ConfigureAwait(false),
                QueueOperation.Release => await store.Queue.ReleaseAsync(queueId, cancellationToken).ConfigureAwait(false),
                QueueOperation.Flush => await store.Queue.FlushAsync(queueId, cancellationToken).ConfigureAwait(false),
                QueueOperation.Delete => await store.Queue.DeleteAsync(queueId!, cancellationToken).ConfigureAwait(false),
                _ => await store.Queue.BounceAsync(queueId!, cancellationToken).ConfigureAwait(false),
            };
            var what = operation switch
            {
                QueueOperation.Hold => "held",
                QueueOperation.Release => "released",
                QueueOperation.Flush => "due now",
                QueueOperation.Delete => "deleted",
                _ => "bounced",
            };
            Console.Out.WriteLine(Display.Line($"{queueId ?? "every message"}: {changed} recipient{(changed == 1 ? string.Empty : "s")} {what}."));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Run()
    {
        var delivery = new DeliveryOptions();
        var queue = QueueStore.Option(StoreDescription, required: true);
        var untilEmpty = new Option<bool>("--until-empty") { Description = "Stop once no recipient is queued or deferred (each delivered, failed, expired, held or in doubt), waiting for retries as needed; default: run until Ctrl+C." };
        var schedule = Durations.ListOption("--retry-schedule", "The waits between attempts, the last repeated (default: 330s,15m,30m,1h,2h,4h, jittered), for example 2s,5s,1m; s, m, h or d.");
        var maxAge = Durations.Option("--max-age", "Give up (expired) the undelivered recipients of messages older than this, for example 2h or 3d (default 5d), even those queued with a longer maximum age (send --queue --max-age): the earlier expiry wins.");
        var command = new Command("run", "Deliver what the queue holds, through the same mailer and delivery options as 'send' (direct, or through a relay: --relay), printing each recipient's outcome as a line.") { queue, untilEmpty, schedule, maxAge };
        delivery.AddTo(command);

        command.SetAction((parse, cancellationToken) => RunAsync(parse, delivery, queue, untilEmpty, schedule, maxAge, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, DeliveryOptions delivery, Option<string?> queue, Option<bool> untilEmpty, Option<TimeSpan[]?> schedule, Option<TimeSpan?> maxAge, CancellationToken cancellationToken)
    {
        var mailerOptions = delivery.Create(parse);
        var queueOptions = new MailQueueOptions { MaxAge = parse.GetValue(maxAge) ?? new MailQueueOptions().MaxAge };
        foreach (var interval in parse.GetValue(schedule) ?? [])
        {
            queueOptions.RetryIntervals.Add(interval);
        }

        using var log = new ConsoleLog(null, parse.GetValue(Options.Verbose) ? Console.Error : null);
        using var loggerFactory = log.CreateFactory();
        await using var store = QueueStore.Open(parse.GetRequiredValue(queue)!, create: true, loggerFactory, queueOptions, withSuppression: true);

        // The mailer consults the list too: a recipient suppressed after its message was queued is failed, not sent.
        await using var mailer = new DirectMailer(mailerOptions, loggerFactory: loggerFactory) { SuppressionStore = store.Suppression };
        var worker = new MailQueueWorker(store.Queue, mailer, loggerFactory);

        // The reader is registered before the worker starts (the iterator subscribes on its first step, run here).
        var printing = PrintEventsAsync(store.Queue);
        try
        {
            if (parse.GetValue(untilEmpty))
            {
                await worker.RunUntilEmptyAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await worker.RunAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Disposing the queue ends the reader once it has printed every event already recorded.
            await store.Queue.DisposeAsync().ConfigureAwait(false);
            await printing.ConfigureAwait(false);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine("directmail: stopped; recipients without an outcome are due again.");
            return parse.GetValue(untilEmpty) ? ExitCodes.Canceled : ExitCodes.Success;
        }

        return ExitCodes.Success;
    }

    private static async Task PrintEventsAsync(MailQueue queue)
    {
        await foreach (var e in queue.ReadEventsAsync(CancellationToken.None).ConfigureAwait(false))
        {
            Console.Out.WriteLine(QueueDescribe.EventLine(e, DateTimeOffset.UtcNow));
        }
    }

    private static async Task<QueuedMessage> FindAsync(QueueStore store, string queueId, CancellationToken cancellationToken) =>
        await store.Queue.GetAsync(queueId, cancellationToken).ConfigureAwait(false)
            ?? throw CliException.NotFound($"no message '{queueId}' in the queue (it was deleted, or the id is mistyped: 'directmail queue list --all' shows what is there).");
}
