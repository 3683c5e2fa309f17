using System;
using Microsoft.Extensions.Logging;

namespace DirectMail.Diagnostics;

/// <summary>Log events of the delivery layer (event ids 4000-4099).</summary>
internal static partial class DeliveryLog
{
    [LoggerMessage(EventId = DirectMailLogEvents.DomainStarted, Level = LogLevel.Debug, Message = "Delivering to {Domain}: {Recipients} recipients")]
    public static partial void DomainStarted(ILogger logger, string domain, int recipients);

    [LoggerMessage(EventId = DirectMailLogEvents.DomainFinished, Level = LogLevel.Information, Message = "{Domain}: {Delivered} delivered, {Deferred} deferred, {Failed} failed")]
    public static partial void DomainFinished(ILogger logger, string domain, int delivered, int deferred, int failed);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "{Domain} could not be resolved: {Status} ({Message})")]
    public static partial void ResolutionFailed(ILogger logger, string domain, DirectMail.Dns.MxResolutionStatus status, string message);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Attempt at {MxHost} [{Address}] failed: {Failure}")]
    public static partial void AttemptFailed(ILogger logger, string mxHost, string address, string failure);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Skipping MX address {Address} of {Domain}: it is {Scope}, and private targets are not allowed (DirectMail:AllowPrivateTargets)")]
    public static partial void PrivateTargetRefused(ILogger logger, string address, string domain, DirectMail.Dns.AddressScope scope);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "{MxHost} [{Address}] answered 421; leaving it alone until {Until:O}")]
    public static partial void HostBackoff(ILogger logger, string mxHost, string address, DateTimeOffset until);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "{Recipient} refused by policy at {MxHost}: {Reply}. {Hint}")]
    public static partial void PolicyRejection(ILogger logger, string recipient, string mxHost, string reply, string hint);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Every connection to port {Port} timed out: outbound port {Port} is probably blocked by the network or hosting provider")]
    public static partial void PortBlocked(ILogger logger, int port);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Debug, Message = "TLS handshake with {MxHost} [{Address}] failed; trying the same address without TLS, as opportunistic TLS allows")]
    public static partial void TlsFallbackToPlaintext(ILogger logger, string mxHost, string address);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Debug, Message = "{Recipient} cannot be sent through {MxHost}: {Reply}; the next MX address may take it")]
    public static partial void RefusedLocally(ILogger logger, string recipient, string mxHost, string reply);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Debug, Message = "The MX lookup of {Domain} is still running after {Threshold}; it goes on without a concurrency slot (DirectMail:MaxConcurrentDomains)")]
    public static partial void SlowLookup(ILogger logger, string domain, TimeSpan threshold);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Debug, Message = "The connection to {MxHost} for {Domain} is still not ready after {Threshold}; it goes on without a concurrency slot (DirectMail:MaxConcurrentDomains)")]
    public static partial void SlowConnect(ILogger logger, string mxHost, string domain, TimeSpan threshold);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Debug, Message = "{Domain}: {Pending} recipients still pending after {MxHost} [{Address}]; trying the next MX address")]
    public static partial void TryingNextAddress(ILogger logger, string domain, int pending, string? mxHost, string? address);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "Send canceled with {Pending} recipients of {Domain} still pending")]
    public static partial void Canceled(ILogger logger, string domain, int pending);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Debug, Message = "{Domain}: delivering through the relay {Relay} ({Route})")]
    public static partial void Relaying(ILogger logger, string domain, string relay, DirectMail.Routing.DeliveryRoute route);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Warning, Message = "The host {Host} of the relay {Relay} did not resolve: {Error}")]
    public static partial void RelayHostUnresolved(ILogger logger, string relay, string host, string error);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Information, Message = "The fallback relay {Relay} is an MX host of {Domain}; it is not used for that domain (it would loop)")]
    public static partial void RelayLoopAvoided(ILogger logger, string relay, string domain);

    [LoggerMessage(EventId = 4017, Level = LogLevel.Warning, Message = "Every connection to port 25 timed out: direct delivery goes through the relay {Relay} until {Until:u}, then is tried again")]
    public static partial void DirectBlocked(ILogger logger, string relay, DateTimeOffset until);
}
