namespace DirectMail.Smtp;

/// <summary>
/// What a delivery status notification about a failure returns of the message (RFC 3461 section 4.3, the
/// <c>RET</c> parameter of MAIL FROM).
/// </summary>
public enum DsnReturn
{
    /// <summary><c>RET=FULL</c>: the whole message.</summary>
    Full,

    /// <summary><c>RET=HDRS</c>: only the message's header.</summary>
    Headers,
}
