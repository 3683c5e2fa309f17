namespace DirectMail.Smtp;

/// <summary>How a transaction ended as a whole.</summary>
public enum SmtpTransactionOutcome
{
    /// <summary>The data was accepted for every recipient the server accepted (at least one); see each recipient for the others.</summary>
    Delivered,

    /// <summary>MAIL FROM was refused; no recipient was tried.</summary>
    SenderRejected,

    /// <summary>No recipient was accepted, so no content was sent.</summary>
    NoRecipientsAccepted,

    /// <summary>DATA (or BDAT) was refused before the content.</summary>
    DataRejected,

    /// <summary>The server refused the message: the reply to the final dot or last BDAT, or the first refused BDAT chunk (after which no chunk is sent without PIPELINING).</summary>
    MessageRejected,

    /// <summary>The transaction ended without an answer from the server: see <see cref="SmtpTransactionResult.Failure"/>.</summary>
    Failed,
}
