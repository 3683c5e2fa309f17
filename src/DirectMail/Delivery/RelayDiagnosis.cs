using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>
/// What to do about a relay's refusal: the replies submission servers (Microsoft 365, Gmail, Postfix with Cyrus SASL)
/// give for credentials and sender rights, which say nothing about the recipient.
/// </summary>
internal static class RelayDiagnosis
{
    public static string? Hint(SmtpFailure failure) => failure.Reply is { } reply ? Hint(reply)
        : failure.Kind == SmtpFailureKind.AuthenticationUnavailable ? failure.Message
        : null;

    public static string? Hint(SmtpReply reply)
    {
        if (reply.EnhancedStatusCode is not { Class: 5, Subject: 7 } esc)
        {
            return null;
        }

        return esc.Detail switch
        {
            8 => "The relay refused the credentials (535 5.7.8): check the relay's UserName and Password, or that the OAuth token is for this user and has the SMTP scope.",
            57 => "The relay requires authentication (530 5.7.57): set the relay's UserName and Password (or a token provider).",
            60 => "The relay does not let this user send as this sender (550 5.7.60): send from the authenticated mailbox's address, or grant it the right to send as the sender.",
            139 => "SMTP AUTH is disabled for this mailbox (5.7.139, Microsoft 365): enable authenticated SMTP for it, or authenticate with an OAuth token (XOAUTH2).",
            _ => null,
        };
    }
}
