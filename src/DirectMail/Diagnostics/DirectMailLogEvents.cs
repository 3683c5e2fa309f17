namespace DirectMail.Diagnostics;

/// <summary>
/// Event ids of DirectMail's logs that applications act on: filter the SMTP transcript, follow a send's progress.
/// Ranges: 2000-2099 SMTP session, 3000-3099 MX resolution, 4000-4099 delivery, 5000-5099 DKIM, 6000-6099 doctor, 7000-7099 queue.
/// </summary>
public static class DirectMailLogEvents
{
    /// <summary>Trace: a line the client sent (<c>C: EHLO ...</c>).</summary>
    public const int SmtpClientLine = 2001;

    /// <summary>Trace: a line the server sent (<c>S: 250 ...</c>).</summary>
    public const int SmtpServerLine = 2002;

    /// <summary>Trace: message content sent, as its size (<c>C: &lt;N octets of message content&gt;</c>).</summary>
    public const int SmtpClientContent = 2003;

    /// <summary>Debug: delivery to a domain started.</summary>
    public const int DomainStarted = 4000;

    /// <summary>Information: delivery to a domain finished, with its counts.</summary>
    public const int DomainFinished = 4001;
}
