using System;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>
/// Tells why a recipient bounced: a specific enhanced status code decides (RFC 3463 and its registry); a generic or
/// missing one leaves it to the diagnostic text (keywords in a fixed order, the most specific first); what is left of
/// class 4 is transient.
/// </summary>
internal static class BounceClassifier
{
    private static readonly (string Keyword, BounceClassification Classification)[] Keywords =
    [
        ("mailbox full", BounceClassification.MailboxFull),
        ("mailbox is full", BounceClassification.MailboxFull),
        ("over quota", BounceClassification.MailboxFull),
        ("quota exceeded", BounceClassification.MailboxFull),
        ("exceeded storage", BounceClassification.MailboxFull),
        ("insufficient storage", BounceClassification.MailboxFull),
        ("too large", BounceClassification.MessageTooLarge),
        ("too big", BounceClassification.MessageTooLarge),
        ("size limit", BounceClassification.MessageTooLarge),
        ("message size exceeds", BounceClassification.MessageTooLarge),
        ("relay access denied", BounceClassification.RelayDenied),
        ("relaying denied", BounceClassification.RelayDenied),
        ("relay not permitted", BounceClassification.RelayDenied),
        ("unable to relay", BounceClassification.RelayDenied),
        ("not permitted to relay", BounceClassification.RelayDenied),
        ("relaying not allowed", BounceClassification.RelayDenied),
        ("host not found", BounceClassification.DnsFailure),
        ("domain not found", BounceClassification.DnsFailure),
        ("name service error", BounceClassification.DnsFailure),
        ("unrouteable", BounceClassification.DnsFailure),
        ("unroutable", BounceClassification.DnsFailure),
        ("no mx", BounceClassification.DnsFailure),
        ("null mx", BounceClassification.DnsFailure),
        ("nxdomain", BounceClassification.DnsFailure),
        ("domain does not exist", BounceClassification.DnsFailure),
        ("couldn't find the domain", BounceClassification.DnsFailure),
        ("account disabled", BounceClassification.MailboxDisabled),
        ("account is disabled", BounceClassification.MailboxDisabled),
        ("mailbox disabled", BounceClassification.MailboxDisabled),
        ("inactive", BounceClassification.MailboxDisabled),
        ("suspended", BounceClassification.MailboxDisabled),
        ("user unknown", BounceClassification.InvalidRecipient),
        ("unknown user", BounceClassification.InvalidRecipient),
        ("no such user", BounceClassification.InvalidRecipient),
        ("no such mailbox", BounceClassification.InvalidRecipient),
        ("no mailbox here", BounceClassification.InvalidRecipient),
        ("recipient not found", BounceClassification.InvalidRecipient),
        ("recipientnotfound", BounceClassification.InvalidRecipient),
        ("user not found", BounceClassification.InvalidRecipient),
        ("address not found", BounceClassification.InvalidRecipient),
        ("does not exist", BounceClassification.InvalidRecipient),
        ("doesn't exist", BounceClassification.InvalidRecipient),
        ("couldn't be found", BounceClassification.InvalidRecipient),
        ("wasn't found", BounceClassification.InvalidRecipient),
        ("invalid recipient", BounceClassification.InvalidRecipient),
        ("unknown recipient", BounceClassification.InvalidRecipient),
        ("does not like recipient", BounceClassification.InvalidRecipient),
        ("spam", BounceClassification.PolicyOrSpamBlock),
        ("blocked", BounceClassification.PolicyOrSpamBlock),
        ("blacklist", BounceClassification.PolicyOrSpamBlock),
        ("blocklist", BounceClassification.PolicyOrSpamBlock),
        ("dmarc", BounceClassification.PolicyOrSpamBlock),
        ("spf", BounceClassification.PolicyOrSpamBlock),
        ("dkim", BounceClassification.PolicyOrSpamBlock),
        ("reputation", BounceClassification.PolicyOrSpamBlock),
        ("policy", BounceClassification.PolicyOrSpamBlock),
        ("try again later", BounceClassification.Transient),
        ("temporarily", BounceClassification.Transient),
        ("greylist", BounceClassification.Transient),
        ("timed out", BounceClassification.Transient),
        ("connection refused", BounceClassification.Transient),
    ];

    public static BounceClassification Classify(DsnAction action, EnhancedStatusCode? status, string? diagnostic)
    {
        if (action is DsnAction.Delivered or DsnAction.Relayed or DsnAction.Expanded || status is { Class: 2 })
        {
            return BounceClassification.NotAFailure;
        }

        if (status is { } code)
        {
            var specific = FromCode(code);
            if (specific != BounceClassification.Other)
            {
                return specific;
            }
        }

        if (diagnostic is not null)
        {
            foreach (var (keyword, classification) in Keywords)
            {
                if (diagnostic.Contains(keyword, StringComparison.OrdinalIgnoreCase))
                {
                    return classification;
                }
            }
        }

        if (status is { Subject: 7 })
        {
            return BounceClassification.PolicyOrSpamBlock;
        }

        return status is { Class: 4 } || (status is null && action == DsnAction.Delayed) ? BounceClassification.Transient : BounceClassification.Other;
    }

    /// <summary>What a code says by itself; <see cref="BounceClassification.Other"/> when it is generic.</summary>
    private static BounceClassification FromCode(EnhancedStatusCode code) => (code.Subject, code.Detail) switch
    {
        (1, 1) or (1, 3) or (1, 4) or (1, 6) or (1, 10) => BounceClassification.InvalidRecipient,
        (1, 2) => BounceClassification.DnsFailure,
        (2, 1) => BounceClassification.MailboxDisabled,
        (2, 2) => BounceClassification.MailboxFull,
        (2, 3) or (3, 4) => BounceClassification.MessageTooLarge,
        (4, 3) or (4, 4) => BounceClassification.DnsFailure,
        (7, 0) => BounceClassification.Other, // generic security or policy: "relay access denied" or a block, by the text
        (7, 1) => BounceClassification.Other, // "delivery not authorized": relaying and blocks alike, by the text
        (7, _) => BounceClassification.PolicyOrSpamBlock,
        _ => BounceClassification.Other,
    };
}
