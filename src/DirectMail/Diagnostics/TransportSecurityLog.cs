using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log events of transport security: MTA-STS policies, DANE, the per-host decisions (event ids 8000-8049).</summary>
internal static partial class TransportSecurityLog
{
    [LoggerMessage(EventId = 8000, Level = LogLevel.Information, Message = "Not trying {MxHost} for {Domain}: {Reason}")]
    public static partial void HostRefusedByPolicy(ILogger logger, string mxHost, string domain, string reason);

    [LoggerMessage(EventId = 8001, Level = LogLevel.Debug, Message = "MTA-STS policy of {Domain} fetched: mode {Mode}, max_age {MaxAgeSeconds} s, id {Id}")]
    public static partial void PolicyFetched(ILogger logger, string domain, string mode, long maxAgeSeconds, string id);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "MTA-STS policy of {Domain} could not be fetched ({Failure}): {Reason}")]
    public static partial void PolicyFetchFailed(ILogger logger, string domain, string failure, string reason);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "MTA-STS policy of {Domain} could not be refreshed ({Reason}); the cached policy (id {Id}) serves until {ExpiresAt:O}")]
    public static partial void CachedPolicyKept(ILogger logger, string domain, string reason, string id, System.DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Debug, Message = "MTA-STS TXT record of {Domain}: {Result}")]
    public static partial void TxtRecord(ILogger logger, string domain, string result);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Warning, Message = "The MTA-STS policy store failed ({Operation} {Domain}): {Reason}")]
    public static partial void StoreFailed(ILogger logger, string operation, string domain, string reason);
}
