using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DirectMail.Queue;

namespace DirectMail.Diagnostics;

/// <summary>
/// The meter and activity source named <c>DirectMail</c>: OpenTelemetry users add <c>AddMeter("DirectMail")</c> and
/// <c>AddSource("DirectMail")</c> and see them with no other code.
/// </summary>
internal static class DirectMailTelemetry
{
    public const string Name = "DirectMail";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(DirectMailTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(DirectMailTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Messages sent, by outcome (delivered, partial, deferred, failed).</summary>
    public static readonly Counter<long> Messages = Meter.CreateCounter<long>("directmail.messages", "{message}", "Messages handed to SendAsync, by outcome.");

    /// <summary>Recipients, by status (delivered, deferred, failed).</summary>
    public static readonly Counter<long> Recipients = Meter.CreateCounter<long>("directmail.recipients", "{recipient}", "Recipients, by delivery status.");

    /// <summary>Connection attempts to MX addresses, by result.</summary>
    public static readonly Counter<long> Attempts = Meter.CreateCounter<long>("directmail.attempts", "{attempt}", "Attempts at an MX address, by result.");

    /// <summary>Duration of SendAsync.</summary>
    public static readonly Histogram<double> SendDuration = Meter.CreateHistogram<double>("directmail.send.duration", "s", "Time taken by SendAsync.");

    /// <summary>Open SMTP connections, idle in the pool or in use.</summary>
    public static readonly UpDownCounter<long> OpenConnections = Meter.CreateUpDownCounter<long>("directmail.connections.open", "{connection}", "Open SMTP connections.");

    /// <summary>Queue delivery attempts recorded, by outcome (delivered, deferred, failed, expired, in_doubt).</summary>
    public static readonly Counter<long> QueueAttempts = Meter.CreateCounter<long>("directmail.queue.attempts", "{attempt}", "Delivery attempts of queued recipients, by outcome.");

    /// <summary>Delay warnings given (<c>MailQueueOptions.DelayWarningTime</c>): one per recipient still undelivered at that age.</summary>
    public static readonly Counter<long> QueueDelayed = Meter.CreateCounter<long>("directmail.queue.delayed", "{recipient}", "Queued recipients still undelivered after the delay warning time (warned once each).");

    /// <summary>Queued recipients by state, from each queue's last statistics read (the worker reads them as it sleeps), not a store query per collection.</summary>
    public static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge<long>("directmail.queue.recipients", QueueMetrics.ObserveDepth, "{recipient}", "Queued recipients, by state.");

    /// <summary>Messages with a recipient not final, from the same statistics.</summary>
    public static readonly ObservableGauge<long> QueueMessages = Meter.CreateObservableGauge<long>("directmail.queue.messages", QueueMetrics.ObservePendingMessages, "{message}", "Queued messages with a recipient not yet final.");

    /// <summary>The age of the oldest message with a recipient not final.</summary>
    public static readonly ObservableGauge<double> QueueOldestAge = Meter.CreateObservableGauge<double>("directmail.queue.oldest_pending_age", QueueMetrics.ObserveOldestAge, "s", "Age of the oldest queued message not yet final.");
}
