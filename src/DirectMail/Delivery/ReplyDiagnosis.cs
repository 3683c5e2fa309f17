using System;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>
/// Recognises replies that refuse the sender rather than the message or the recipient, and says what to do: these
/// do not pass on retry until SPF, DKIM or reverse DNS are in order.
/// </summary>
internal static class ReplyDiagnosis
{
    private const string AuthenticationHint = "The receiver wants authenticated mail: publish an SPF record for the sender's domain that authorises this IP, sign with DKIM and publish DMARC; or send through a relay that does.";
    private const string ReverseDnsHint = "The sending IP needs reverse DNS: a PTR record whose name resolves back to the IP, used as the EHLO name (DirectMail:HeloName).";
    private const string PolicyHint = "The receiver refuses mail from this IP or domain by policy: check SPF, DKIM and reverse DNS (PTR) and whether the IP is on a blocklist, or send through a relay.";

    public static bool IsPolicyRejection(SmtpReply reply, out string hint)
    {
        hint = string.Empty;
        var text = reply.Text;
        if (reply.EnhancedStatusCode is { Subject: 7 } esc)
        {
            switch (esc.Detail)
            {
                case 25: // RFC 7372: reverse DNS validation failed
                    hint = ReverseDnsHint;
                    return true;
                case 23: // SPF validation failed
                case 24: // SPF validation error
                case 26: // multiple authentication checks failed
                case 27: // sender address has null MX
                    hint = AuthenticationHint;
                    return true;
                case 1 when reply.IsPermanentNegative:
                    hint = Mentions(text, "PTR") || Mentions(text, "reverse") ? ReverseDnsHint
                        : Mentions(text, "authenticat") || Mentions(text, "SPF") || Mentions(text, "DKIM") ? AuthenticationHint
                        : PolicyHint;
                    return true;
                case 0 when reply.IsTransientNegative && (Mentions(text, "authenticat") || Mentions(text, "unsolicited") || Mentions(text, "SPF") || Mentions(text, "DKIM") || Mentions(text, "PTR")):
                    // Gmail's 421-4.7.0: looks transient, will not pass on retry.
                    hint = Mentions(text, "PTR") ? ReverseDnsHint : AuthenticationHint;
                    return true;
            }
        }

        if (reply.IsPermanentNegative && (Mentions(text, "not authorized to send") || Mentions(text, "Spamhaus") || Mentions(text, "blocklist") || Mentions(text, "blacklist")))
        {
            hint = PolicyHint;
            return true;
        }

        return false;
    }

    private static bool Mentions(string text, string word) => text.Contains(word, StringComparison.OrdinalIgnoreCase);
}
