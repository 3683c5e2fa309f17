using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DirectMail.Queue;

namespace DirectMail.Cli;

/// <summary>How the queue commands print messages, recipients, attempts and events, as text and as JSON. Server text goes through <see cref="Display"/>.</summary>
internal static class QueueDescribe
{
    public static void PrintJson<T>(T value, JsonTypeInfo<T> type, TextWriter output) =>
        output.WriteLine(Display.Json(JsonSerializer.Serialize(value, type)));

    /// <summary>queued, deferred, in-flight, delivered, failed, expired, held, in-doubt.</summary>
    public static string State(QueueRecipientState state) => state switch
    {
        QueueRecipientState.Queued => "queued",
        QueueRecipientState.Deferred => "deferred",
        QueueRecipientState.InFlight => "in-flight",
        QueueRecipientState.Delivered => "delivered",
        QueueRecipientState.Failed => "failed",
        QueueRecipientState.Expired => "expired",
        QueueRecipientState.Held => "held",
        QueueRecipientState.InDoubt => "in-doubt",
        _ => state.ToString(),
    };

    public static QueueMessageJson ToJson(QueuedMessage message)
    {
        var recipients = new List<QueueRecipientJson>(message.Recipients.Count);
        foreach (var r in message.Recipients)
        {
            var attempts = new List<QueueAttemptJson>(r.Attempts.Count);
            foreach (var a in r.Attempts)
            {
                attempts.Add(new QueueAttemptJson
                {
                    StartedAt = a.StartedAt,
                    Outcome = State(a.Outcome),
                    Reply = a.Reply,
                    MxHost = a.MxHost,
                    ServerAddress = a.ServerAddress,
                    Detail = a.Detail,
                });
            }

            recipients.Add(new QueueRecipientJson { Address = r.Address, State = State(r.State), NextAttemptAt = r.NextAttemptAt, Attempts = attempts });
        }

        return new QueueMessageJson
        {
            QueueId = message.MessageId,
            Sender = message.Sender,
            Size = message.Size,
            EnqueuedAt = message.EnqueuedAt,
            ExpiresAt = message.ExpiresAt,
            Recipients = recipients,
        };
    }

    /// <summary>One message in a listing: id, age, sender, then each recipient's state on a line of its own.</summary>
    public static void PrintSummary(QueuedMessage message, DateTimeOffset now, TextWriter output)
    {
        output.WriteLine(Display.Line($"{message.MessageId}  {Durations.Format(now - message.EnqueuedAt)} old  from {Sender(message.Sender)}  {message.Size} bytes"));
        foreach (var r in message.Recipients)
        {
            output.WriteLine(Display.Line($"  {r.Address}: {StateWithNext(r, now)}"));
        }
    }

    /// <summary>Everything about one message: its envelope, and every recipient with every attempt.</summary>
    public static void PrintMessage(QueuedMessage message, DateTimeOffset now, TextWriter output)
    {
        output.WriteLine(Display.Line($"{message.MessageId}: from {Sender(message.Sender)}, {message.Size} bytes"));
        output.WriteLine($"  enqueued {Time(message.EnqueuedAt)} ({Durations.Format(now - message.EnqueuedAt)} ago), expires {Time(message.ExpiresAt)}");
        foreach (var r in message.Recipients)
        {
            output.WriteLine(Display.Line($"  {r.Address}: {StateWithNext(r, now)}"));
            foreach (var a in r.Attempts)
            {
                output.WriteLine(Display.Line($"    {Time(a.StartedAt)} {State(a.Outcome)}{Outcome(a.Reply, a.MxHost, a.ServerAddress, a.Detail)}"));
            }
        }
    }

    /// <summary>What the worker recorded for one recipient, on one line: "ID address: delivered, 250 2.0.0 Ok, via mx.example.com [192.0.2.1]".</summary>
    public static string EventLine(MailQueueEvent e, DateTimeOffset now)
    {
        var next = e.NextAttemptAt is { } at ? $", next attempt {Time(at)} (in {Durations.Format(at - now)})" : string.Empty;
        var outcome = e.Attempt is { } a ? Outcome(a.Reply, a.MxHost, a.ServerAddress, a.Detail ?? e.Detail) : Outcome(null, null, null, e.Detail);
        return Display.Line($"{e.QueueId} {e.Address}: {State(e.State)}{(e.IsDelayed ? " (delayed)" : string.Empty)}{outcome}{next}");
    }

    private static string StateWithNext(QueuedRecipient r, DateTimeOffset now) =>
        r.NextAttemptAt is { } at && r.State is QueueRecipientState.Queued or QueueRecipientState.Deferred
            ? $"{State(r.State)}, next attempt {Time(at)} ({(at <= now ? "due now" : "in " + Durations.Format(at - now))})"
            : State(r.State);

    private static string Outcome(string? reply, string? mxHost, string? serverAddress, string? detail)
    {
        var text = string.Empty;
        if (reply is not null)
        {
            text += ", " + reply.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ');
        }

        if (mxHost is not null)
        {
            text += ", via " + mxHost + (serverAddress is null ? string.Empty : " [" + serverAddress + "]");
        }

        if (detail is not null)
        {
            text += " (" + detail + ")";
        }

        return text;
    }

    private static string Sender(string sender) => sender.Length == 0 ? "<>" : sender;

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
