using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

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
