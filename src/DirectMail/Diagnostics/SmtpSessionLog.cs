using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>
/// Log events of the SMTP session (event ids 2000-2099). The transcript (<c>C:</c>/<c>S:</c> lines, as in a telnet
/// session) is written at Trace level, inside a scope naming the server and address.
/// </summary>
internal static partial class SmtpSessionLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Connected to {ServerName} at {EndPoint} from {LocalEndPoint}")]
    public static partial void Connected(ILogger logger, string serverName, string endPoint, string localEndPoint);

    [LoggerMessage(EventId = DirectMailLogEvents.SmtpClientLine, Level = LogLevel.Trace, Message = "C: {Line}")]
    public static partial void ClientLine(ILogger logger, string line);

    [LoggerMessage(EventId = DirectMailLogEvents.SmtpServerLine, Level = LogLevel.Trace, Message = "S: {Line}")]
    public static partial void ServerLine(ILogger logger, string line);

    [LoggerMessage(EventId = DirectMailLogEvents.SmtpClientContent, Level = LogLevel.Trace, Message = "C: <{Octets} octets of message content>")]
    public static partial void ClientContent(ILogger logger, long octets);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "TLS established with {ServerName}: {Protocol}, {CipherSuite}")]
    public static partial void TlsEstablished(ILogger logger, string serverName, string protocol, string cipherSuite);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Discarded {Octets} octets that {ServerName} sent after its STARTTLS reply and before the TLS handshake (possible reply injection)")]
    public static partial void DiscardedBeforeTls(ILogger logger, int octets, string serverName);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "{ServerName} refused STARTTLS ({Reply}); continuing without TLS, as the Opportunistic mode allows")]
    public static partial void StartTlsRefused(ILogger logger, string serverName, string reply);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Debug, Message = "Session with {ServerName} failed: {Failure}")]
    public static partial void Failed(ILogger logger, string serverName, string failure);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Debug, Message = "Transaction with {ServerName} ended: {Outcome}, {Accepted} of {Recipients} recipients accepted")]
    public static partial void TransactionEnded(ILogger logger, string serverName, DirectMail.Smtp.SmtpTransactionOutcome outcome, int accepted, int recipients);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Debug, Message = "{ServerName} does not accept EHLO ({Reply}); falling back to HELO")]
    public static partial void HeloFallback(ILogger logger, string serverName, string reply);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "{ServerName} answered DATA with {Reply} although the sender or every recipient was refused; the connection is closed, as whatever is sent next would be message text")]
    public static partial void DataWithoutTransaction(ILogger logger, string serverName, string reply);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "The connection to {ServerName} broke after the end of the data and before the reply; the message may have been delivered")]
    public static partial void LostAfterData(ILogger logger, string serverName, Exception? exception);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Debug, Message = "Authenticated to {ServerName} as {UserName} with {Mechanism}")]
    public static partial void Authenticated(ILogger logger, string serverName, string userName, string mechanism);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "{ServerName} refused the OAuth token of {UserName} as expired or invalid; asking the token provider for a fresh one, once")]
    public static partial void TokenRefused(ILogger logger, string serverName, string userName);
}
