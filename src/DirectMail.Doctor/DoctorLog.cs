using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Doctor;

/// <summary>Log messages of the sender doctor; event ids 6000 to 6099.</summary>
internal static partial class DoctorLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Debug, Message = "Doctor check {CheckId} of {Domain}: {Status}: {Found}")]
    public static partial void Checked(ILogger logger, string checkId, string domain, DoctorStatus status, string found);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Doctor report of {Domain}: ready {IsReady}, {Failed} failed, {Warned} warnings")]
    public static partial void Reported(ILogger logger, string domain, bool isReady, int failed, int warned);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Doctor port 25 probe: connecting to {Host} at {Address} port {Port}")]
    public static partial void Probing(ILogger logger, string host, string address, int port);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "Doctor port 25 probe to {Address} port {Port} failed")]
    public static partial void ProbeFailed(ILogger logger, string address, int port, Exception exception);
}
