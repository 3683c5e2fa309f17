using System;
using DirectMail.Dns;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log messages of the MX resolver; event ids 3000 to 3099.</summary>
internal static partial class MxResolverLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Debug, Message = "MX resolution of {Domain}: {Resolution}")]
    public static partial void Resolved(ILogger logger, string domain, MxResolution resolution);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "MX resolution of {Domain} failed: {Status}: {Reason}")]
    public static partial void Failed(ILogger logger, string domain, MxResolutionStatus status, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "DNS {QueryType} query for {Name} failed: {Reason}")]
    public static partial void QueryFailed(ILogger logger, string name, string queryType, string reason, Exception? exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "MX host of {Domain} skipped: {Reason}")]
    public static partial void TargetSkipped(ILogger logger, string domain, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Trace, Message = "MX resolution of {Domain} joined a lookup already in flight")]
    public static partial void JoinedInFlight(ILogger logger, string domain);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Trace, Message = "MX resolution of {Domain} kept for {CacheTime}")]
    public static partial void Cached(ILogger logger, string domain, TimeSpan cacheTime);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "MX cache is full ({Count} domains); {Domain} is not kept")]
    public static partial void CacheFull(ILogger logger, int count, string domain);
}
