using System;
using DirectMail.Smtp;

namespace DirectMail.Tests.Infrastructure;

/// <summary>Short SMTP timeouts for tests against local servers, which answer at once or never.</summary>
internal static class TestTimeouts
{
    /// <summary>Sets every phase's timeout to <paramref name="value"/>.</summary>
    public static void SetAll(SmtpTimeouts timeouts, TimeSpan value)
    {
        timeouts.Connect = value;
        timeouts.Greeting = value;
        timeouts.Command = value;
        timeouts.MailFrom = value;
        timeouts.RcptTo = value;
        timeouts.DataInitiation = value;
        timeouts.DataBlock = value;
        timeouts.DataTermination = value;
    }
}
