namespace DirectMail.Smtp;

/// <summary>
/// A transaction waiting for a connection to the server a session is talking to: when the session takes it, it
/// writes the transaction's MAIL, RCPT and DATA right after the end of its own message, before that message's reply
/// is read (RFC 2920 section 3.1: message content may start a group), and the waiting caller then continues on the
/// session from the replies. One round trip per message instead of two.
/// </summary>
internal interface IWaitingTransaction
{
    /// <summary>The envelope the caller will send; <see cref="SmtpSession"/> continues only for this very instance.</summary>
    SmtpEnvelope Envelope { get; }

    /// <summary>The content the caller will send with it.</summary>
    SmtpContent Content { get; }
}

/// <summary>Where a session finds a transaction waiting for its server (a pool's queue for one host).</summary>
internal interface IWaitingTransactionSource
{
    /// <summary>Takes the next waiting transaction, which is then the session's to continue; null when none waits.</summary>
    IWaitingTransaction? TryTake();
}
