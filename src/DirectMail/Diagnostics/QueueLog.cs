using System;
using DirectMail.Queue;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log events of the queue (event ids 7000-7099). Deferrals are routine mail events: Information, not Warning.</summary>
internal static partial class QueueLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Debug, Message = "Queued {QueueId} for {Recipients} recipients")]
    public static partial void Enqueued(ILogger logger, string queueId, int recipients);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Queued {QueueId}: {Recipients} deferred recipients handed over by SendAsync")]
    public static partial void HandedOff(ILogger logger, string queueId, int recipients);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "The deferred recipients of a send could not be queued; they are reported Deferred without a queue id")]
    public static partial void HandOffFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "{Operation} applied to {QueueId}: {Changed} recipients changed")]
    public static partial void OperationApplied(ILogger logger, QueueOperation operation, string queueId, int changed);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "{QueueId} delivered to {Recipient} via {MxHost}: {Reply}")]
    public static partial void Delivered(ILogger logger, string queueId, string recipient, string? mxHost, string? reply);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Information, Message = "{QueueId} to {Recipient} deferred until {NextAttemptAt:O}: {Reason}")]
    public static partial void Deferred(ILogger logger, string queueId, string recipient, DateTimeOffset? nextAttemptAt, string? reason);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Debug, Message = "{QueueId} to {Recipient} not tried, deferred until {NextAttemptAt:O}: {Reason}")]
    public static partial void NotTried(ILogger logger, string queueId, string recipient, DateTimeOffset? nextAttemptAt, string? reason);

    [LoggerMessage(EventId = 7013, Level = LogLevel.Information, Message = "{QueueId} to {Recipient} failed: {Reason}")]
    public static partial void Failed(ILogger logger, string queueId, string recipient, string? reason);

    [LoggerMessage(EventId = 7014, Level = LogLevel.Warning, Message = "{QueueId} to {Recipient} expired undelivered: {Reason}")]
    public static partial void Expired(ILogger logger, string queueId, string recipient, string? reason);

    [LoggerMessage(EventId = 7015, Level = LogLevel.Warning, Message = "{QueueId} to {Recipient} is in doubt (end of message sent to {MxHost}, no reply): not sent again unless released. {Detail}")]
    public static partial void InDoubt(ILogger logger, string queueId, string recipient, string? mxHost, string? detail);

    [LoggerMessage(EventId = 7020, Level = LogLevel.Information, Message = "Destination {Destination} could not be reached at all; its messages wait until {Until:O}")]
    public static partial void DestinationDown(ILogger logger, string destination, DateTimeOffset until);

    [LoggerMessage(EventId = 7021, Level = LogLevel.Information, Message = "Destination {Destination} rate-limited this sender ({Reply}); its messages wait until {Until:O}")]
    public static partial void DestinationThrottled(ILogger logger, string destination, DateTimeOffset until, string reply);

    [LoggerMessage(EventId = 7016, Level = LogLevel.Information, Message = "{QueueId} to {Recipient} is delayed: still undelivered after {DelayWarningTime}; next attempt {NextAttemptAt:O}")]
    public static partial void Delayed(ILogger logger, string queueId, string recipient, DateTimeOffset? nextAttemptAt, TimeSpan delayWarningTime);

    [LoggerMessage(EventId = 7022, Level = LogLevel.Warning, Message = "The connection slot {Holder} of limit {Limit} had run out before it was renewed and was taken: the limit may be passed by one until this delivery ends")]
    public static partial void SlotLost(ILogger logger, string limit, string holder);

    [LoggerMessage(EventId = 7030, Level = LogLevel.Information, Message = "Queue worker started: at most {Concurrency} messages at once")]
    public static partial void WorkerStarted(ILogger logger, int concurrency);

    [LoggerMessage(EventId = 7031, Level = LogLevel.Information, Message = "Queue worker stopped")]
    public static partial void WorkerStopped(ILogger logger);

    [LoggerMessage(EventId = 7032, Level = LogLevel.Warning, Message = "The claim on {QueueId} (fence {Fence}) was lost to a newer one; its outcomes are not recorded here")]
    public static partial void LeaseLost(ILogger logger, string queueId, long fence);

    [LoggerMessage(EventId = 7033, Level = LogLevel.Error, Message = "The queue store failed ({Operation}); the worker goes on")]
    public static partial void StoreFailed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(EventId = 7034, Level = LogLevel.Error, Message = "Delivering {QueueId} failed; the claim is left to expire (recipients marked in flight become in doubt)")]
    public static partial void ClaimFailed(ILogger logger, string queueId, Exception exception);

    [LoggerMessage(EventId = 7035, Level = LogLevel.Error, Message = "The content of {QueueId} could not be sent as stored; deferred")]
    public static partial void ContentUnreadable(ILogger logger, string queueId, Exception exception);

    [LoggerMessage(EventId = 7036, Level = LogLevel.Information, Message = "The content of {QueueId} is gone: its recipients were settled elsewhere after this claim (fence {Fence}) was taken; nothing sent")]
    public static partial void ContentGone(ILogger logger, string queueId, long fence);

    [LoggerMessage(EventId = 7037, Level = LogLevel.Information, Message = "Delivery status notice {NoticeId} queued to the sender of {QueueId}, reporting {Count} recipients")]
    public static partial void NoticeQueued(ILogger logger, string queueId, string noticeId, int count);

    [LoggerMessage(EventId = 7038, Level = LogLevel.Error, Message = "The delivery status notice for {QueueId} could not be made; the outcomes are recorded without it")]
    public static partial void NoticeFailed(ILogger logger, string queueId, Exception exception);
}
