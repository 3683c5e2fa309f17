using System;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Suppression;

/// <summary>One entry of the suppression list: the address, and why, when and from which message it was suppressed.</summary>
public sealed class SuppressedRecipient
{
    /// <summary>Creates an entry.</summary>
    /// <param name="address">The recipient address; kept in its compared form (domain in lower-case A-labels, local part as given).</param>
    /// <param name="source">How it came onto the list.</param>
    /// <param name="suppressedAt">When.</param>
    /// <exception cref="ArgumentException">The address has no <c>@</c> with text on both sides, or holds a control character.</exception>
    public SuppressedRecipient(string address, SuppressionSource source, DateTimeOffset suppressedAt)
    {
        Address = SuppressionAddress.Normalize(address);
        Source = source;
        SuppressedAt = suppressedAt;
    }

    /// <summary>The address, in its compared form: the local part as given, the domain in lower-case A-labels without a root dot.</summary>
    public string Address { get; }

    /// <summary>How it came onto the list.</summary>
    public SuppressionSource Source { get; }

    /// <summary>When it was suppressed.</summary>
    public DateTimeOffset SuppressedAt { get; }

    /// <summary>Why the recipient bounced (for <see cref="SuppressionSource.Manual"/>, <see cref="BounceClassification.Other"/> unless given).</summary>
    public BounceClassification Classification { get; init; }

    /// <summary>The enhanced status code the bounce or the refusal gave (<c>5.1.1</c>), or null.</summary>
    public EnhancedStatusCode? Status { get; init; }

    /// <summary>The server's words (the bounce's diagnostic, the refusal's reply), on one line, or the operator's note; null when none.</summary>
    public string? Diagnostic { get; init; }

    /// <summary>The queue id of the message it bounced from, when the bounce was correlated to one; null otherwise.</summary>
    public string? QueueId { get; init; }

    /// <summary>The <c>Message-ID</c> (without angle brackets) of the message it bounced from, when known; null otherwise.</summary>
    public string? MessageId { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Address} {Source} {Classification} {Status?.ToString() ?? "-"} {SuppressedAt:O}";
}
