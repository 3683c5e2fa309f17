using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

/// <summary>Why an operation of a session did not succeed.</summary>
public sealed class SmtpFailure
{
    internal SmtpFailure(SmtpFailureKind kind, SmtpPhase phase, string message, SmtpReply? reply = null, Exception? exception = null, SmtpProtocolViolation? protocolViolation = null)
    {
        Kind = kind;
        Phase = phase;
        Message = message ?? throw new ArgumentNullException(nameof(message));
        Reply = reply;
        Exception = exception;
        ProtocolViolation = protocolViolation;
    }

    /// <summary>What went wrong.</summary>
    public SmtpFailureKind Kind { get; }

    /// <summary>Where it went wrong.</summary>
    public SmtpPhase Phase { get; }

    /// <summary>A sentence for people.</summary>
    public string Message { get; }

    /// <summary>The server's reply, when one caused the failure.</summary>
    public SmtpReply? Reply { get; }

    /// <summary>The exception behind the failure, when there was one (socket, TLS or I/O error).</summary>
    public Exception? Exception { get; }

    /// <summary>Which rule or limit the server's reply broke, for <see cref="SmtpFailureKind.ProtocolViolation"/>; otherwise null.</summary>
    public SmtpProtocolViolation? ProtocolViolation { get; }

    /// <summary>
    /// True when trying again later or elsewhere may succeed: a 4xx reply, a timeout, a lost connection, a refused
    /// connection, a TLS failure. False for a 5xx reply and for what the server or the content can never do.
    /// </summary>
    public bool IsTransient => Kind switch
    {
        SmtpFailureKind.Rejected => Reply is null || !Reply.IsPermanentNegative,
        SmtpFailureKind.NotSupportedByServer or SmtpFailureKind.InvalidContent or SmtpFailureKind.CredentialsRejected or SmtpFailureKind.AuthenticationUnavailable => false,
        _ => true,
    };

    /// <inheritdoc />
    public override string ToString() => Reply is null ? $"{Kind} at {Phase}: {Message}" : $"{Kind} at {Phase}: {Message} ({Reply})";
}
