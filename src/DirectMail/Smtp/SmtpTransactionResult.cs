using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

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

    /// <summary>Whether the server offered DSN (RFC 3461) in its EHLO reply: if not, it sends no notices and NOTIFY was not passed on.</summary>
    internal bool DsnOffered { get; init; }

    /// <summary>True when the message was delivered to at least one recipient.</summary>
    public bool IsDelivered => Outcome == SmtpTransactionOutcome.Delivered;

    /// <inheritdoc />
    public override string ToString() => Failure is null ? $"{Outcome} ({FinalReply})" : $"{Outcome}: {Failure}";
}
