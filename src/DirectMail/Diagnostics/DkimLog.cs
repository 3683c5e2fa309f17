using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log events of DKIM signing (event ids 5000-5099).</summary>
internal static partial class DkimLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "Message from {FromDomain} (envelope sender domain {SenderDomain}) sent unsigned: no DKIM key applies (DirectMail:Dkim signs with the keys of the domain of the single From mailbox, else of the envelope sender)")]
    public static partial void Unsigned(ILogger logger, string fromDomain, string senderDomain);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "Signed with DKIM: d={Domain} s={Selector}")]
    public static partial void Signed(ILogger logger, string domain, string selector);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "DKIM signing spooled a content of unknown length ({Octets} octets so far) to a temporary file, so that it can be written after its signature")]
    public static partial void SpooledToFile(ILogger logger, long octets);
}
