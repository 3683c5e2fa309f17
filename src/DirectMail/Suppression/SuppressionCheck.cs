using System;
using System.Globalization;
using System.Text;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Suppression;

/// <summary>What the mailer says of a suppressed recipient, and which refusals it adds to the list.</summary>
internal static class SuppressionCheck
{
    private const int MaxDiagnostic = 300;

    /// <summary>RFC 3463 X.7.1, delivery not authorized: what a suppressed recipient without a bounce status of its own is failed with.</summary>
    private static readonly EnhancedStatusCode NotAuthorized = new(5, 7, 1);

    /// <summary>
    /// The reply a suppressed recipient is failed with (synthetic: no server said it): 550, the status it bounced or was
    /// refused with when the entry keeps one of class 5 (<c>5.1.1</c>), else 5.7.1 (delivery not authorized: the list
    /// forbids it), and why.
    /// </summary>
    public static SmtpReply Reply(string address, SuppressedRecipient entry)
    {
        var status = entry.Status is { Class: 5 } given ? given : NotAuthorized;
        var text = new StringBuilder(160)
            .Append(status.ToString()).Append(" DirectMail did not send to <").Append(address).Append(">: it is on the suppression list since ")
            .Append(entry.SuppressedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture))
            .Append(" (").Append(Name(entry.Source)).Append(", ").Append(entry.Classification.ToString());
        if (entry.QueueId is not null)
        {
            text.Append(", message ").Append(entry.QueueId);
        }

        text.Append(')');
        if (entry.Diagnostic is { Length: > 0 } diagnostic)
        {
            text.Append(": ").Append(OneLine(diagnostic));
        }

        return new SmtpReply(550, [text.ToString()], isSynthetic: true);
    }

    /// <summary>The hint of a suppressed recipient: how to send to it again.</summary>
    public const string Hint = "Suppressed: nothing was sent. Remove the address from the suppression list (ISuppressionStore.RemoveAsync, directmail suppression remove ADDRESS) to mail it again.";

    /// <summary>The entry for a recipient a server refused during a send, when the refusal is a hard bounce; else null.</summary>
    public static SuppressedRecipient? FromRefusal(string address, SmtpReply reply, DateTimeOffset now)
    {
        if (reply.IsSynthetic || !reply.IsPermanentNegative)
        {
            return null;
        }

        var status = reply.EnhancedStatusCode ?? new EnhancedStatusCode(5, 0, 0);
        var text = reply.Text;
        var classification = BounceClassifier.Classify(DsnAction.Failed, status, text);
        if (!BounceRecipient.IsHard(DsnAction.Failed, status, classification))
        {
            return null;
        }

        return new SuppressedRecipient(address, SuppressionSource.Refusal, now)
        {
            Classification = classification,
            Status = status,
            Diagnostic = OneLine(reply.Code.ToString(CultureInfo.InvariantCulture) + " " + text),
        };
    }

    /// <summary>Text on one line (controls become spaces), cut to a length a reply line can carry.</summary>
    public static string OneLine(string text)
    {
        var length = Math.Min(text.Length, MaxDiagnostic);
        return string.Create(length, text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsControl(c) ? ' ' : c;
            }
        });
    }

    private static string Name(SuppressionSource source) => source switch
    {
        SuppressionSource.Bounce => "bounced",
        SuppressionSource.Refusal => "refused",
        _ => "added by hand",
    };
}
