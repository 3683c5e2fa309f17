using DirectMail.Security.Dane;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log messages of DANE (RFC 7672): TLSA lookups and certificate matches; event ids 8050 to 8099.</summary>
internal static partial class DaneLog
{
    [LoggerMessage(EventId = 8050, Level = LogLevel.Warning, Message = "DANE is off: {Reason}")]
    public static partial void Off(ILogger logger, string reason);

    [LoggerMessage(EventId = 8051, Level = LogLevel.Debug, Message = "TLSA lookup for MX host {Host}: {Status}: {Reason}")]
    public static partial void LookedUp(ILogger logger, string host, TlsaLookupStatus status, string reason);

    [LoggerMessage(EventId = 8052, Level = LogLevel.Information, Message = "TLSA lookup for MX host {Host} failed; the host is not used: {Reason}")]
    public static partial void LookupFailed(ILogger logger, string host, string reason);

    [LoggerMessage(EventId = 8054, Level = LogLevel.Information, Message = "DANE is off: {Reason}")]
    public static partial void OffForResolver(ILogger logger, string reason);

    [LoggerMessage(EventId = 8053, Level = LogLevel.Warning, Message = "TLSA cache is full ({Count} hosts); {Host} is not kept")]
    public static partial void CacheFull(ILogger logger, int count, string host);
}
