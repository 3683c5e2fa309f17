using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>The suppression list's and the bounce intake's logs (event ids 7120-7139).</summary>
internal static partial class SuppressionLog
{
    [LoggerMessage(EventId = 7120, Level = LogLevel.Information, Message = "{Recipient} not sent to: on the suppression list since {SuppressedAt:O} ({Source}, {Classification})")]
    public static partial void Suppressed(ILogger logger, string recipient, DateTimeOffset suppressedAt, Suppression.SuppressionSource source, Dsn.BounceClassification classification);

    [LoggerMessage(EventId = 7121, Level = LogLevel.Error, Message = "The suppression list could not be read for {Recipient}; it is deferred, not sent")]
    public static partial void CheckFailed(ILogger logger, string recipient, Exception exception);

    [LoggerMessage(EventId = 7122, Level = LogLevel.Information, Message = "{Recipient} added to the suppression list: {Source}, {Classification} {Status}")]
    public static partial void Added(ILogger logger, string recipient, Suppression.SuppressionSource source, Dsn.BounceClassification classification, string? status);

    [LoggerMessage(EventId = 7123, Level = LogLevel.Error, Message = "{Recipient} could not be added to the suppression list")]
    public static partial void AddFailed(ILogger logger, string recipient, Exception exception);

    [LoggerMessage(EventId = 7124, Level = LogLevel.Information, Message = "Bounce read: {Kind}, {Recipients} recipients, correlated to {QueueId}, {Suppressed} suppressed")]
    public static partial void Ingested(ILogger logger, Dsn.BounceKind kind, int recipients, string? queueId, int suppressed);

    [LoggerMessage(EventId = 7125, Level = LogLevel.Warning, Message = "Bounce for {Recipient} not taken: it names no message of the queue (RequireCorrelation)")]
    public static partial void NotCorrelated(ILogger logger, string recipient);

    [LoggerMessage(EventId = 7126, Level = LogLevel.Warning, Message = "No VERP address for {Recipient} ({Reason}); its transaction uses the plain sender")]
    public static partial void NoVerpAddress(ILogger logger, string recipient, string reason);
}
