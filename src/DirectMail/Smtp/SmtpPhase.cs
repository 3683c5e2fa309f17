namespace DirectMail.Smtp;

/// <summary>Where in the conversation something happened.</summary>
public enum SmtpPhase
{
    /// <summary>Opening the TCP connection.</summary>
    Connect,

    /// <summary>Waiting for the 220 greeting.</summary>
    Greeting,

    /// <summary>EHLO or HELO.</summary>
    Hello,

    /// <summary>STARTTLS and the TLS handshake.</summary>
    StartTls,

    /// <summary>MAIL FROM.</summary>
    MailFrom,

    /// <summary>RCPT TO.</summary>
    RcptTo,

    /// <summary>DATA and its 354 reply, or the first BDAT.</summary>
    DataInitiation,

    /// <summary>Sending the content.</summary>
    Content,

    /// <summary>The reply after the final dot or the last BDAT chunk.</summary>
    DataTermination,

    /// <summary>RSET, NOOP or QUIT.</summary>
    Other,

    /// <summary>SMTP AUTH (RFC 4954): the SASL exchange with the server, after EHLO (and STARTTLS).</summary>
    Authenticate,
}
