using System;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>
/// One recipient's fields in a delivery status notification (RFC 3464 section 2.3): who, what happened, the status
/// code, which server said what, and when.
/// </summary>
public sealed class DsnRecipientReport
{
    /// <summary>Creates a recipient's report.</summary>
    /// <param name="finalRecipient">The address the attempt was made to (<c>Final-Recipient</c>).</param>
    /// <param name="action">What happened (<c>Action</c>).</param>
    /// <param name="status">The enhanced status code (<c>Status</c>, RFC 3463): class 5 (or 4.4.7, expired) for failed, 4 for delayed, 2 otherwise.</param>
    /// <exception cref="ArgumentException">The address holds a control character or a space, or the status class does not fit the action.</exception>
    public DsnRecipientReport(string finalRecipient, DsnAction action, EnhancedStatusCode status)
    {
        ArgumentException.ThrowIfNullOrEmpty(finalRecipient);
        DeliveryStatusWriter.CheckField(finalRecipient, nameof(finalRecipient), allowSpace: false);
        // RFC 3463: a failure is permanent (5.x.x), or a transient condition that lasted too long (4.4.7, delivery time
        // expired); a delay is transient; the rest succeeded.
        var fits = action switch
        {
            DsnAction.Failed => status.Class is 4 or 5,
            DsnAction.Delayed => status.Class == 4,
            DsnAction.Delivered or DsnAction.Relayed or DsnAction.Expanded => status.Class == 2,
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Not a DSN action."),
        };
        if (!fits)
        {
            throw new ArgumentException($"A {action.ToString().ToLowerInvariant()} recipient cannot have status {status} (RFC 3464 section 2.3.4, RFC 3463).", nameof(status));
        }

        FinalRecipient = finalRecipient;
        Action = action;
        Status = status;
    }

    /// <summary>The address the attempt was made to.</summary>
    public string FinalRecipient { get; }

    /// <summary>What happened.</summary>
    public DsnAction Action { get; }

    /// <summary>The enhanced status code.</summary>
    public EnhancedStatusCode Status { get; }

    /// <summary>The recipient as the sender gave it (the ORCPT parameter), or null.</summary>
    public string? OriginalRecipient
    {
        get;
        init
        {
            if (value is not null)
            {
                DeliveryStatusWriter.CheckField(value, nameof(value), allowSpace: false);
            }

            field = value;
        }
    }

    /// <summary>The server that gave the reply (<c>Remote-MTA</c>), a host name or address; null when none answered.</summary>
    public string? RemoteMta
    {
        get;
        init
        {
            if (value is not null)
            {
                DeliveryStatusWriter.CheckField(value, nameof(value), allowSpace: false);
            }

            field = value;
        }
    }

    /// <summary>
    /// The server's reply (<c>Diagnostic-Code: smtp; ...</c>), or null when there was none (a connection that failed); a
    /// reply DirectMail made itself (<see cref="SmtpReply.IsSynthetic"/>) is written <c>Diagnostic-Code: X-DirectMail; ...</c>.
    /// </summary>
    public SmtpReply? Reply { get; init; }

    /// <summary>When the last attempt was made (<c>Last-Attempt-Date</c>), or null.</summary>
    public DateTimeOffset? LastAttemptDate { get; init; }

    /// <summary>For a delayed recipient, until when it is still tried (<c>Will-Retry-Until</c>), or null.</summary>
    public DateTimeOffset? WillRetryUntil { get; init; }

    /// <summary>What a person reads about this recipient in the notice's first part, when there is no reply to quote (why a connection failed).</summary>
    public string? Detail { get; init; }
}
