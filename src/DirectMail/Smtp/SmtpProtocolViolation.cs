namespace DirectMail.Smtp;

/// <summary>
/// Which rule of the reply syntax (RFC 5321 section 4.2), or which limit of <see cref="SmtpSessionOptions"/>, a
/// server's reply broke: the reason of a <see cref="SmtpFailureKind.ProtocolViolation"/>.
/// </summary>
public enum SmtpProtocolViolation
{
    /// <summary>A line does not start with a reply code from 200 to 559 (binary data, another protocol, garbage).</summary>
    NotAReply,

    /// <summary>A reply code is followed by neither a space nor a hyphen.</summary>
    InvalidSeparator,

    /// <summary>A line of a multi-line reply carries another code than the first.</summary>
    InconsistentReplyCode,

    /// <summary>A line is longer than <see cref="SmtpSessionOptions.MaxReplyLineLength"/>, with or without its end.</summary>
    LineTooLong,

    /// <summary>A multi-line reply has more than <see cref="SmtpSessionOptions.MaxReplyLines"/> lines.</summary>
    TooManyLines,

    /// <summary>A reply is larger than <see cref="SmtpSessionOptions.MaxReplyBytes"/>.</summary>
    ReplyTooLarge,
}
