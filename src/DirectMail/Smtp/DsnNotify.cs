using System;

namespace DirectMail.Smtp;

/// <summary>
/// When the receiving servers should send a delivery status notification for a recipient (RFC 3461 section 4.1, the
/// <c>NOTIFY</c> parameter of RCPT TO). <see cref="Default"/> sends no parameter: the server's own rule applies
/// (failures and, for most servers, delays are notified). <see cref="Never"/> stands alone; the others combine.
/// </summary>
[Flags]
public enum DsnNotify
{
    /// <summary>No <c>NOTIFY</c> parameter.</summary>
    Default = 0,

    /// <summary><c>NOTIFY=NEVER</c>: no notification at all. Cannot be combined with the others.</summary>
    Never = 1,

    /// <summary><c>SUCCESS</c>: a notification when the message is delivered (or relayed to a server without DSN).</summary>
    Success = 2,

    /// <summary><c>FAILURE</c>: a notification when the message cannot be delivered.</summary>
    Failure = 4,

    /// <summary><c>DELAY</c>: a notification when delivery is delayed.</summary>
    Delay = 8,
}
