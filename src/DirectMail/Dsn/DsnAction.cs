namespace DirectMail.Dsn;

/// <summary>What a delivery status notification says happened to a recipient (RFC 3464 section 2.3.3, <c>Action</c>).</summary>
public enum DsnAction
{
    /// <summary><c>failed</c>: the message could not be delivered, and will not be tried again.</summary>
    Failed,

    /// <summary><c>delayed</c>: not delivered yet; it is still being tried.</summary>
    Delayed,

    /// <summary><c>delivered</c>: delivered to the recipient's mailbox.</summary>
    Delivered,

    /// <summary><c>relayed</c>: handed to a server that does not send notifications (it offers no DSN).</summary>
    Relayed,

    /// <summary><c>expanded</c>: delivered to the recipient and forwarded to others (a list).</summary>
    Expanded,
}
