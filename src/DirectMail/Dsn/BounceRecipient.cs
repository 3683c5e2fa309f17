using System;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>One recipient a bounce reports: its address, what happened, the code, the reason and who said it.</summary>
public sealed class BounceRecipient
{
    internal BounceRecipient(string address, DsnAction action, EnhancedStatusCode? status, BounceClassification classification)
    {
        Address = address;
        Action = action;
        Status = status;
        Classification = classification;
    }

    /// <summary>The address delivery was tried to (<c>Final-Recipient</c>, or the address a text bounce names).</summary>
    public string Address { get; }

    /// <summary>The recipient as the sender gave it (<c>Original-Recipient</c>, the ORCPT), decoded from xtext and RFC 6533 forms; null when absent.</summary>
    public string? OriginalRecipient { get; init; }

    /// <summary>What happened (<c>Action</c>); for a text bounce, <see cref="DsnAction.Delayed"/> when it says it is still trying, <see cref="DsnAction.Failed"/> otherwise.</summary>
    public DsnAction Action { get; }

    /// <summary>The enhanced status code (<c>Status</c>, or the first one in the diagnostic text; <c>x.0.0</c> from a bare reply code); null when there is none.</summary>
    public EnhancedStatusCode? Status { get; }

    /// <summary>Why the recipient bounced.</summary>
    public BounceClassification Classification { get; }

    /// <summary>The server that gave the reply (<c>Remote-MTA</c>, or the host a text bounce names), without its address type; null when unknown.</summary>
    public string? RemoteMta { get; init; }

    /// <summary>The diagnostic (<c>Diagnostic-Code</c> without its type, unfolded; or the reason a text bounce gives, on one line); null when none.</summary>
    public string? Diagnostic { get; init; }

    /// <summary>When the last attempt was made (<c>Last-Attempt-Date</c>), or null.</summary>
    public DateTimeOffset? LastAttemptDate { get; init; }

    /// <summary>Until when a delayed recipient is still tried (<c>Will-Retry-Until</c>), or null.</summary>
    public DateTimeOffset? WillRetryUntil { get; init; }

    /// <summary>
    /// True for a hard bounce: the recipient failed permanently (class 5) because the address is invalid, the
    /// mailbox is disabled or the domain does not exist; an address that should not be mailed again until someone
    /// checks it. A full mailbox, a policy block or a message too large is not one.
    /// </summary>
    public bool IsHardBounce => IsHard(Action, Status, Classification);

    /// <summary>The hard-bounce rule of <see cref="IsHardBounce"/>, for a refusal had during a send too.</summary>
    internal static bool IsHard(DsnAction action, EnhancedStatusCode? status, BounceClassification classification)
        => action == DsnAction.Failed && status is { Class: 5 }
            && classification is BounceClassification.InvalidRecipient or BounceClassification.MailboxDisabled or BounceClassification.DnsFailure;

    /// <inheritdoc />
    public override string ToString() => Address + " " + Action.ToString().ToLowerInvariant() + " " + (Status?.ToString() ?? "-") + " " + Classification;
}
