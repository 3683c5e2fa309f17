using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

/// <summary>Where in the conversation something happened.</summary>
public enum SmtpPhase
{
    /// <summary>Opening the TCP connection.</summary>
    Connect,

    /// <summary>Waiting for the 220 greeting.</summary>
    Greeting,

    /// <summary>EHLO or HELO.</summary>
    Hello,

    /// <summary>STARTTLS and the TLS handshake.</summary>
    StartTls,

    /// <summary>MAIL FROM.</summary>
    MailFrom,

    /// <summary>RCPT TO.</summary>
    RcptTo,

    /// <summary>DATA and its 354 reply, or the first BDAT.</summary>
    DataInitiation,

    /// <summary>Sending the content.</summary>
    Content,

    /// <summary>The reply after the final dot or the last BDAT chunk.</summary>
    DataTermination,

    /// <summary>RSET, NOOP or QUIT.</summary>
    Other,
}

/// <summary>What went wrong, when it was not simply a server's negative reply to a command.</summary>
public enum SmtpFailureKind
{
    /// <summary>The server gave a negative reply; see <see cref="SmtpFailure.Reply"/>.</summary>
    Rejected,

    /// <summary>The TCP connection was refused or could not be made (no route, host unreachable).</summary>
    ConnectFailed,

    /// <summary>The step took longer than its timeout; the connection was closed.</summary>
    TimedOut,

    /// <summary>The server closed the connection, or it broke (reset, I/O error).</summary>
    ConnectionLost,

    /// <summary>The server sent something that is not an SMTP reply, or broke a limit on reply size; see <see cref="SmtpFailure.ProtocolViolation"/>.</summary>
    ProtocolViolation,

    /// <summary>TLS was required and the server did not offer STARTTLS, or refused it.</summary>
    TlsUnavailable,

    /// <summary>The TLS handshake failed, or the certificate was not accepted.</summary>
    TlsHandshakeFailed,

    /// <summary>The message needs something the server does not offer (8BITMIME, SMTPUTF8) or is larger than its SIZE limit; nothing was sent.</summary>
    NotSupportedByServer,

    /// <summary>The content broke a rule of the wire format while it was being sent (a line over 998 octets, 8-bit octets in content declared 7-bit); the transaction was abandoned so the server discards it.</summary>
    InvalidContent,

    /// <summary>The content could not be produced (the source stream threw); the transaction was abandoned.</summary>
    ContentSourceFailed,
}

/// <summary>
/// Which rule of the reply syntax (RFC 5321 section 4.2), or which limit of <see cref="SmtpSessionOptions"/>, a
/// server's reply broke: the reason of a <see cref="SmtpFailureKind.ProtocolViolation"/>.
/// </summary>
public enum SmtpProtocolViolation
{
    /// <summary>A line does not start with a reply code from 200 to 559 (binary data, another protocol, garbage).</summary>
    NotAReply,

    /// <summary>A reply code is followed by neither a space nor a hyphen.</summary>
    InvalidSeparator,

    /// <summary>A line of a multi-line reply carries another code than the first.</summary>
    InconsistentReplyCode,

    /// <summary>A line is longer than <see cref="SmtpSessionOptions.MaxReplyLineLength"/>, with or without its end.</summary>
    LineTooLong,

    /// <summary>A multi-line reply has more than <see cref="SmtpSessionOptions.MaxReplyLines"/> lines.</summary>
    TooManyLines,

    /// <summary>A reply is larger than <see cref="SmtpSessionOptions.MaxReplyBytes"/>.</summary>
    ReplyTooLarge,
}

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
        SmtpFailureKind.NotSupportedByServer or SmtpFailureKind.InvalidContent => false,
        _ => true,
    };

    /// <inheritdoc />
    public override string ToString() => Reply is null ? $"{Kind} at {Phase}: {Message}" : $"{Kind} at {Phase}: {Message} ({Reply})";
}

/// <summary>The outcome of opening a session: the connection, greeting, EHLO and, by the TLS mode, STARTTLS.</summary>
public sealed class SmtpConnectResult
{
    internal SmtpConnectResult(SmtpReply? greeting, SmtpFailure? failure)
    {
        Greeting = greeting;
        Failure = failure;
    }

    /// <summary>True when the session is ready for transactions.</summary>
    public bool IsSuccess => Failure is null;

    /// <summary>The server's greeting, when one was read (a 4xx or 5xx greeting is in <see cref="Failure"/> too).</summary>
    public SmtpReply? Greeting { get; }

    /// <summary>Why the session is not ready; null on success.</summary>
    public SmtpFailure? Failure { get; }

    /// <inheritdoc />
    public override string ToString() => IsSuccess ? $"Ready ({Greeting})" : Failure!.ToString();
}

/// <summary>What happened to one recipient of a transaction.</summary>
public sealed class SmtpRecipientResult
{
    internal SmtpRecipientResult(string address, SmtpReply? rcptReply)
    {
        Address = address;
        RcptReply = rcptReply;
    }

    /// <summary>The recipient address as given in the envelope.</summary>
    public string Address { get; }

    /// <summary>
    /// The reply to this recipient's RCPT TO, or a synthetic reply when DirectMail refused it before sending (for
    /// example a UTF-8 address to a server without SMTPUTF8). Null when RCPT TO was never answered.
    /// </summary>
    public SmtpReply? RcptReply { get; internal set; }

    /// <summary>True when the server accepted the recipient at RCPT TO.</summary>
    public bool IsAccepted => RcptReply is { IsPositiveCompletion: true, IsSynthetic: false };

    /// <summary>True when the message was delivered to the server for this recipient: accepted at RCPT and the data accepted.</summary>
    public bool IsDelivered { get; internal set; }

    /// <summary>The reply that decides this recipient's fate: the final reply to the data when delivered or when the data failed after the recipient was accepted, otherwise the RCPT reply.</summary>
    public SmtpReply? Reply { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{Address}: {(IsDelivered ? "delivered" : "not delivered")} {Reply}";
}

/// <summary>How a transaction ended as a whole.</summary>
public enum SmtpTransactionOutcome
{
    /// <summary>The data was accepted for every recipient the server accepted (at least one); see each recipient for the others.</summary>
    Delivered,

    /// <summary>MAIL FROM was refused; no recipient was tried.</summary>
    SenderRejected,

    /// <summary>No recipient was accepted, so no content was sent.</summary>
    NoRecipientsAccepted,

    /// <summary>DATA (or BDAT) was refused before the content.</summary>
    DataRejected,

    /// <summary>The server refused the message: the reply to the final dot or last BDAT, or the first refused BDAT chunk (after which no chunk is sent without PIPELINING).</summary>
    MessageRejected,

    /// <summary>The transaction ended without an answer from the server: see <see cref="SmtpTransactionResult.Failure"/>.</summary>
    Failed,
}

/// <summary>The outcome of one mail transaction, with every recipient's own reply.</summary>
public sealed class SmtpTransactionResult
{
    internal SmtpTransactionResult(SmtpTransactionOutcome outcome, IReadOnlyList<SmtpRecipientResult> recipients, SmtpReply? mailFromReply, SmtpReply? dataReply, SmtpReply? finalReply, SmtpFailure? failure)
    {
        Outcome = outcome;
        Recipients = recipients;
        MailFromReply = mailFromReply;
        DataReply = dataReply;
        FinalReply = finalReply;
        Failure = failure;
    }

    /// <summary>How the transaction ended.</summary>
    public SmtpTransactionOutcome Outcome { get; }

    /// <summary>Every envelope recipient, in envelope order.</summary>
    public IReadOnlyList<SmtpRecipientResult> Recipients { get; }

    /// <summary>The reply to MAIL FROM, when one was read.</summary>
    public SmtpReply? MailFromReply { get; }

    /// <summary>The reply to DATA (354 when the server took it), or to the first BDAT that failed; null when not reached.</summary>
    public SmtpReply? DataReply { get; }

    /// <summary>The reply after the content: after the final dot, or to the last BDAT.</summary>
    public SmtpReply? FinalReply { get; }

    /// <summary>What went wrong when the transaction did not deliver; null on <see cref="SmtpTransactionOutcome.Delivered"/>.</summary>
    public SmtpFailure? Failure { get; }

    /// <summary>True when the message was delivered to at least one recipient.</summary>
    public bool IsDelivered => Outcome == SmtpTransactionOutcome.Delivered;

    /// <inheritdoc />
    public override string ToString() => Failure is null ? $"{Outcome} ({FinalReply})" : $"{Outcome}: {Failure}";
}
