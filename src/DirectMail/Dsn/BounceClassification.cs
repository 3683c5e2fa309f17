namespace DirectMail.Dsn;

/// <summary>
/// Why a recipient bounced, from its enhanced status code (RFC 3463) and, where the code is missing or generic
/// (<c>x.0.0</c>, <c>x.y.0</c>), from the diagnostic text.
/// </summary>
public enum BounceClassification
{
    /// <summary>No reason could be told (or the code says something not listed here).</summary>
    Other,

    /// <summary>Not a failure: the recipient was delivered, relayed or expanded (<c>2.x.x</c>).</summary>
    NotAFailure,

    /// <summary>The mailbox does not exist or the address is wrong (<c>x.1.1</c>, <c>x.1.3</c>, <c>x.1.6</c>, <c>x.1.10</c>, "user unknown").</summary>
    InvalidRecipient,

    /// <summary>The mailbox exists but is disabled or does not take mail (<c>x.2.1</c>).</summary>
    MailboxDisabled,

    /// <summary>The mailbox is over its quota (<c>x.2.2</c>).</summary>
    MailboxFull,

    /// <summary>The message is larger than the receiver takes (<c>x.2.3</c>, <c>x.3.4</c>).</summary>
    MessageTooLarge,

    /// <summary>Refused for a policy, reputation, spam or authentication (SPF, DKIM, DMARC) reason (<c>x.7.x</c>).</summary>
    PolicyOrSpamBlock,

    /// <summary>The receiver does not relay for this domain ("relay access denied").</summary>
    RelayDenied,

    /// <summary>The recipient's domain could not be resolved or routed (<c>x.1.2</c>, <c>x.4.3</c>, <c>x.4.4</c>).</summary>
    DnsFailure,

    /// <summary>A temporary condition (class 4 codes without a more specific reason): the message may still be delivered or may be sent again later.</summary>
    Transient,
}
