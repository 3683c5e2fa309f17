using System;
using System.Collections.Generic;

namespace DirectMail.Dsn;

/// <summary>
/// What <see cref="BounceParser"/> read from a received message: whether it is a bounce, the keys that correlate it
/// with what was sent (<see cref="EnvelopeId"/>, <see cref="OriginalMessageId"/>, and the VERP address in
/// <see cref="To"/> or the envelope recipient, decoded with <see cref="VerpAddress"/>), and the recipients it reports.
/// </summary>
public sealed class BounceReport
{
    internal static readonly BounceReport NotABounce = new(BounceKind.NotABounce, []);

    internal BounceReport(BounceKind kind, IReadOnlyList<BounceRecipient> recipients)
    {
        Kind = kind;
        Recipients = recipients;
    }

    /// <summary>Whether the message is a bounce, and of which kind.</summary>
    public BounceKind Kind { get; }

    /// <summary>The recipients reported, in the order the message gives them (at most <see cref="BounceParser.MaxRecipients"/>); empty for <see cref="BounceKind.NotABounce"/>.</summary>
    public IReadOnlyList<BounceRecipient> Recipients { get; }

    /// <summary>True when the message reported more recipients than <see cref="BounceParser.MaxRecipients"/> and the rest were not read.</summary>
    public bool RecipientsTruncated { get; init; }

    /// <summary>The original message's envelope id (<c>Original-Envelope-Id</c>, the ENVID it was sent with, decoded from xtext), or null.</summary>
    public string? EnvelopeId { get; init; }

    /// <summary>The returned original's <c>Message-ID</c> without angle brackets (from its returned header or the headers a text bounce quotes), or null.</summary>
    public string? OriginalMessageId { get; init; }

    /// <summary>The server that reports (<c>Reporting-MTA</c> without its type), or null.</summary>
    public string? ReportingMta { get; init; }

    /// <summary>When the reporting server received the original (<c>Arrival-Date</c>), or null.</summary>
    public DateTimeOffset? ArrivalDate { get; init; }

    /// <summary>The bounce's <c>To</c> address (the original's envelope sender: a VERP address when it was sent with one), or null.</summary>
    public string? To { get; init; }
}
