using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DirectMail.Queue;

namespace DirectMail.Diagnostics;

/// <summary>
/// The names under which DirectMail traces and measures: an <see cref="System.Diagnostics.ActivitySource"/> named
/// <see cref="ActivitySourceName"/> and a <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/>.
/// OpenTelemetry users add <c>AddDirectMailInstrumentation()</c> (package DirectMail.OpenTelemetry), or
/// <c>AddSource(DirectMailTelemetry.ActivitySourceName)</c> and <c>AddMeter(DirectMailTelemetry.MeterName)</c>.
/// </summary>
/// <remarks>
/// Spans: <c>directmail.send</c> (one per SendAsync), <c>directmail.domain</c> (one per recipient domain) and
/// <c>directmail.attempt</c> (one per connection to an MX or relay address, <see cref="ActivityKind.Client"/>, with
/// <c>server.address</c>, <c>server.port</c>, <c>network.peer.address</c>, <c>network.peer.port</c>, and on failure
/// <c>error.type</c> and <see cref="ActivityStatusCode.Error"/>). Metrics follow the OpenTelemetry semantic conventions'
/// naming rules: durations are histograms in seconds (unit <c>s</c>), counts of things that come and go are
/// up-down counters named <c>*.count</c>, and the outcome is always the attribute <see cref="OutcomeAttribute"/>.
/// </remarks>
public static class DirectMailTelemetry
{
    /// <summary>The name of DirectMail's <see cref="System.Diagnostics.ActivitySource"/>: <c>DirectMail</c>.</summary>
    public const string ActivitySourceName = "DirectMail";

    /// <summary>The name of DirectMail's <see cref="System.Diagnostics.Metrics.Meter"/>: <c>DirectMail</c>.</summary>
    public const string MeterName = "DirectMail";

    /// <summary>The attribute that names an outcome on every metric and span that has one: <c>directmail.outcome</c>.</summary>
    public const string OutcomeAttribute = "directmail.outcome";

    /// <summary>The attribute of <c>directmail.connection.count</c>: <c>idle</c> (pooled) or <c>used</c>.</summary>
    public const string ConnectionStateAttribute = "directmail.connection.state";

    /// <summary>The attribute of <c>directmail.queue.recipient.count</c>: the recipients' queue state (queued, deferred, in_flight, held, in_doubt, delivered, failed, expired).</summary>
    public const string QueueRecipientStateAttribute = "directmail.queue.recipient.state";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName, typeof(DirectMailTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(MeterName, typeof(DirectMailTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Messages handed to SendAsync, by <see cref="OutcomeAttribute"/> (delivered, partial, deferred, failed).</summary>
    internal static readonly Counter<long> Messages = Meter.CreateCounter<long>("directmail.messages", "{message}", "Messages handed to SendAsync, by outcome.");

    /// <summary>Recipients, by <see cref="OutcomeAttribute"/> (delivered, deferred, failed).</summary>
    internal static readonly Counter<long> Recipients = Meter.CreateCounter<long>("directmail.recipients", "{recipient}", "Recipients of SendAsync, by outcome.");

    /// <summary>Duration of SendAsync, by <see cref="OutcomeAttribute"/>.</summary>
    internal static readonly Histogram<double> SendDuration = CreateDurationHistogram("directmail.send.duration", "Duration of SendAsync, by outcome.");

    /// <summary>Duration of one attempt at an MX or relay address (connect, transactions, return to the pool), by server.address, server.port and, on failure, error.type.</summary>
    internal static readonly Histogram<double> AttemptDuration = CreateDurationHistogram("directmail.attempt.duration", "Duration of an attempt at an MX or relay address; error.type is set when it failed.");

    /// <summary>Open SMTP connections by <see cref="ConnectionStateAttribute"/> (idle in the pool, or used), server.address and server.port.</summary>
    internal static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("directmail.connection.count", "{connection}", "Open SMTP connections, idle in the pool or used.");

    /// <summary>Queue delivery attempts recorded, by <see cref="OutcomeAttribute"/> (delivered, deferred, failed, expired, in_doubt).</summary>
    internal static readonly Counter<long> QueueAttempts = Meter.CreateCounter<long>("directmail.queue.attempts", "{attempt}", "Delivery attempts of queued recipients, by outcome.");

    /// <summary>Delay warnings given (<c>MailQueueOptions.DelayWarningTime</c>): one per recipient still undelivered at that age.</summary>
    internal static readonly Counter<long> QueueDelayed = Meter.CreateCounter<long>("directmail.queue.delayed", "{recipient}", "Queued recipients still undelivered after the delay warning time (warned once each).");

    /// <summary>Queued recipients by <see cref="QueueRecipientStateAttribute"/>, from each queue's last statistics read (the worker reads them as it sleeps), not a store query per collection.</summary>
    internal static readonly ObservableUpDownCounter<long> QueueRecipients = Meter.CreateObservableUpDownCounter("directmail.queue.recipient.count", QueueMetrics.ObserveDepth, "{recipient}", "Queued recipients, by state.");

    /// <summary>Messages with a recipient not final, from the same statistics.</summary>
    internal static readonly ObservableUpDownCounter<long> QueueMessages = Meter.CreateObservableUpDownCounter("directmail.queue.message.count", QueueMetrics.ObservePendingMessages, "{message}", "Queued messages with a recipient not yet final.");

    /// <summary>The age of the oldest message with a recipient not final.</summary>
    internal static readonly ObservableGauge<double> QueueOldestAge = Meter.CreateObservableGauge("directmail.queue.oldest_pending_age", QueueMetrics.ObserveOldestAge, "s", "Age of the oldest queued message not yet final.");

    /// <summary>
    /// The bucket boundaries (seconds) advised for DirectMail's duration histograms, from 10 ms to 5 minutes (a send
    /// with retries and fallback takes minutes). On .NET 9 and later they are the instruments' advice
    /// (<c>InstrumentAdvice</c>), which OpenTelemetry applies by itself; the net8.0 build has no such advice
    /// (System.Diagnostics.DiagnosticSource 8), so a view gives them there:
    /// <c>AddView("directmail.send.duration", new ExplicitBucketHistogramConfiguration { Boundaries = DirectMailTelemetry.DurationBucketBoundaries })</c>.
    /// </summary>
    public static double[] DurationBucketBoundaries => [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private static Histogram<double> CreateDurationHistogram(string name, string description) =>
#if NET9_0_OR_GREATER
        Meter.CreateHistogram<double>(name, "s", description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBucketBoundaries });
#else
        Meter.CreateHistogram<double>(name, "s", description);
#endif

    /// <summary>
    /// The <c>error.type</c> of a failure: the code of the negative reply that decided it (<c>550</c>, <c>421</c>), as
    /// HTTP's conventions use the status code, or else the kind of failure (<see cref="ErrorType(Smtp.SmtpFailureKind)"/>).
    /// </summary>
    internal static string ErrorType(Smtp.SmtpFailure failure) => failure.Reply is { IsPositiveCompletion: false } reply
        ? reply.Code.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : ErrorType(failure.Kind);

    /// <summary>The <c>error.type</c> of a failure kind: its name in snake case (<c>timed_out</c>, <c>connection_lost</c>).</summary>
    internal static string ErrorType(Smtp.SmtpFailureKind kind) => kind switch
    {
        Smtp.SmtpFailureKind.Rejected => "rejected",
        Smtp.SmtpFailureKind.ConnectFailed => "connect_failed",
        Smtp.SmtpFailureKind.TimedOut => "timed_out",
        Smtp.SmtpFailureKind.ConnectionLost => "connection_lost",
        Smtp.SmtpFailureKind.ProtocolViolation => "protocol_violation",
        Smtp.SmtpFailureKind.TlsUnavailable => "tls_unavailable",
        Smtp.SmtpFailureKind.TlsHandshakeFailed => "tls_handshake_failed",
        Smtp.SmtpFailureKind.NotSupportedByServer => "not_supported_by_server",
        Smtp.SmtpFailureKind.InvalidContent => "invalid_content",
        Smtp.SmtpFailureKind.ContentSourceFailed => "content_source_failed",
        Smtp.SmtpFailureKind.CredentialsRejected => "credentials_rejected",
        Smtp.SmtpFailureKind.AuthenticationDeferred => "authentication_deferred",
        Smtp.SmtpFailureKind.AuthenticationUnavailable => "authentication_unavailable",
        _ => "_OTHER",
    };
}
