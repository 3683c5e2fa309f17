using System;
using System.Globalization;
using System.Threading;

namespace DirectMail.Smtp;

/// <summary>
/// The time allowed for each phase of an SMTP session, one deadline per reply (RFC 5321 section 4.5.3.2): a server
/// that trickles one octet at a time cannot stretch a wait. Each may be <see cref="Timeout.InfiniteTimeSpan"/>;
/// otherwise it must be positive. Used as <see cref="SmtpSessionOptions.Timeouts"/> and, bound from the
/// configuration section <c>DirectMail:Timeouts</c>, as <c>DirectMailOptions.Timeouts</c>.
/// </summary>
public sealed class SmtpTimeouts
{
    /// <summary>Time allowed to establish the TCP connection. Default 30 seconds.</summary>
    public TimeSpan Connect { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for the 220 greeting. Default 5 minutes (RFC 5321 section 4.5.3.2.1).</summary>
    public TimeSpan Greeting { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for replies to EHLO, HELO, STARTTLS, RSET, NOOP and QUIT, and for the TLS handshake. Default 5 minutes, as for MAIL.</summary>
    public TimeSpan Command { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for the reply to MAIL. Default 5 minutes (RFC 5321 section 4.5.3.2.2).</summary>
    public TimeSpan MailFrom { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for the reply to each RCPT. Default 5 minutes (RFC 5321 section 4.5.3.2.3).</summary>
    public TimeSpan RcptTo { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for the 354 reply to DATA. Default 2 minutes (RFC 5321 section 4.5.3.2.4).</summary>
    public TimeSpan DataInitiation { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Time allowed for each write of content to complete. Default 3 minutes (RFC 5321 section 4.5.3.2.5).</summary>
    public TimeSpan DataBlock { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Time allowed for the reply after the final dot or the last BDAT. Default 10 minutes (RFC 5321 section 4.5.3.2.6).
    /// This wait is whole whatever time the call spent before: neither the cancellation token nor the mailer's
    /// SendTimeout cuts it, as the server may have taken the message by then.
    /// </summary>
    public TimeSpan DataTermination { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A copy, so that the session or mailer holding it does not see later changes by the caller.</summary>
    internal SmtpTimeouts Copy() => (SmtpTimeouts)MemberwiseClone();

    /// <summary>Adds a failure to <paramref name="errors"/> for each timeout that is neither positive nor infinite.</summary>
    /// <param name="errors">Collects the failures.</param>
    /// <param name="path">The property holding these timeouts (<c>Timeouts</c>), to name each one.</param>
    internal void Validate(OptionErrors errors, string path)
    {
        Check(errors, Connect, path, nameof(Connect));
        Check(errors, Greeting, path, nameof(Greeting));
        Check(errors, Command, path, nameof(Command));
        Check(errors, MailFrom, path, nameof(MailFrom));
        Check(errors, RcptTo, path, nameof(RcptTo));
        Check(errors, DataInitiation, path, nameof(DataInitiation));
        Check(errors, DataBlock, path, nameof(DataBlock));
        Check(errors, DataTermination, path, nameof(DataTermination));
    }

    private static void Check(OptionErrors errors, TimeSpan value, string section, string name)
    {
        if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            var path = section + "." + name;
            errors.Add(path, string.Create(CultureInfo.InvariantCulture, $"{errors.Name(path)} must be positive (or Timeout.InfiniteTimeSpan); it is {value}."));
        }
    }
}
