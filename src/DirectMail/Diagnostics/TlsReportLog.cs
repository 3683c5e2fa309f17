using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log events of TLS reporting, RFC 8460 (event ids 8100-8149). A domain without a TLS-RPT record is routine: Debug.</summary>
internal static partial class TlsReportLog
{
    [LoggerMessage(EventId = 8100, Level = LogLevel.Information, Message = "TLS report for {PolicyDomain} ({Day}) sent to {Destination}")]
    public static partial void Sent(ILogger logger, string policyDomain, string day, string destination);

    [LoggerMessage(EventId = 8101, Level = LogLevel.Debug, Message = "No TLS report for {PolicyDomain} ({Day}): {Reason}")]
    public static partial void NoRecord(ILogger logger, string policyDomain, string day, string? reason);

    [LoggerMessage(EventId = 8102, Level = LogLevel.Debug, Message = "TLS report for {PolicyDomain} ({Day}) is claimed or sent by another instance")]
    public static partial void ClaimedElsewhere(ILogger logger, string policyDomain, string day);

    [LoggerMessage(EventId = 8103, Level = LogLevel.Information, Message = "TLS report for {PolicyDomain} ({Day}) not taken by {Destination}: {Reason}")]
    public static partial void DestinationFailed(ILogger logger, string policyDomain, string day, string destination, string reason);

    [LoggerMessage(EventId = 8104, Level = LogLevel.Information, Message = "TLS report for {PolicyDomain} ({Day}) not delivered; tried again at {RetryAt:O}: {Reason}")]
    public static partial void WillRetry(ILogger logger, string policyDomain, string day, DateTimeOffset retryAt, string reason);

    [LoggerMessage(EventId = 8105, Level = LogLevel.Warning, Message = "TLS report for {PolicyDomain} ({Day}) given up undelivered: {Reason}")]
    public static partial void GivenUp(ILogger logger, string policyDomain, string day, string reason);

    [LoggerMessage(EventId = 8106, Level = LogLevel.Error, Message = "TLS reporting failed for {PolicyDomain} ({Day}); tried again later")]
    public static partial void Error(ILogger logger, string policyDomain, string day, Exception exception);

    [LoggerMessage(EventId = 8107, Level = LogLevel.Information, Message = "TLS reporting: {Reports} reports of the days before {Today} to send, the next run at {NextRun:O}")]
    public static partial void Run(ILogger logger, int reports, string today, DateTimeOffset nextRun);

    [LoggerMessage(EventId = 8108, Level = LogLevel.Warning, Message = "TLS report counts ({Sessions} sessions) could not be added to the shared store; kept and tried again at the next flush")]
    public static partial void FlushFailed(ILogger logger, long sessions, Exception exception);

    [LoggerMessage(EventId = 8109, Level = LogLevel.Debug, Message = "TLS report counts added to the shared store: batch {Batch}, {Sessions} sessions")]
    public static partial void Flushed(ILogger logger, long batch, long sessions);

    [LoggerMessage(EventId = 8110, Level = LogLevel.Error, Message = "TLS reporting could not list the reports to send; run again at {RunAt:O}")]
    public static partial void RunFailed(ILogger logger, DateTimeOffset runAt, Exception exception);
}
