namespace DirectMail.Dsn;

/// <summary>What <see cref="BounceParser"/> found a received message to be.</summary>
public enum BounceKind
{
    /// <summary>Not a bounce (ordinary mail, an auto-reply, a read receipt): no recipients are reported.</summary>
    NotABounce,

    /// <summary>A standard delivery status notification (RFC 3464 <c>message/delivery-status</c>, RFC 6533 <c>message/global-delivery-status</c>).</summary>
    Dsn,

    /// <summary>A bounce in one of the common text formats (Exchange, Gmail, Postfix, Exim, qmail): recipients and codes read from its text.</summary>
    NonStandard,
}
