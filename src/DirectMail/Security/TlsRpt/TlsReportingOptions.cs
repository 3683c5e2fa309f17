using System;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Settings of TLS reporting (RFC 8460): who the daily reports say they are from, and when they go. Bound from the
/// configuration section <c>DirectMail:TlsReporting</c> by <c>AddTlsReporting</c>; <see cref="Validate"/> checks them once.
/// </summary>
public sealed class TlsReportingOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "DirectMail:TlsReporting";

    /// <summary>The sending organization, the report's <c>organization-name</c> (required), e.g. "Example Inc.".</summary>
    public string OrganizationName { get; set; } = string.Empty;

    /// <summary>
    /// The domain that submits the reports (required): <c>TLS-Report-Submitter</c> and the first part of the report's
    /// file name (RFC 8460 section 5.3), normally the domain the mail is sent from, e.g. "mail.example.com".
    /// </summary>
    public string SubmitterDomain { get; set; } = string.Empty;

    /// <summary>
    /// The mailbox reports sent by mail come from (required): envelope sender and From. Use one whose bounces nobody
    /// needs to read (RFC 8460 section 5.3 leaves it to the sender); e.g. "tlsrpt-noreply@example.com".
    /// </summary>
    public string ReportSender { get; set; } = string.Empty;

    /// <summary>Whom the receiving domain may ask about a report (<c>contact-info</c>); empty (default): <see cref="ReportSender"/>.</summary>
    public string ContactInfo { get; set; } = string.Empty;

    /// <summary>
    /// The reports of a day go out after 00:00 UTC plus a random wait up to this long. Default 1 hour: RFC 8460 section
    /// 4.1 asks senders to spread their reports rather than all send at midnight.
    /// </summary>
    public TimeSpan MaxSendDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The wait before a report that could not be delivered (no destination took it; the DNS did not answer) is tried
    /// again. Default 1 hour; a report is given up a day after its day ended.
    /// </summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often this instance adds what it counted to the shared store (the queue's SQLite or PostgreSQL database with
    /// <c>AddSqliteTlsReportStore</c> / <c>AddPostgreSqlTlsReportStore</c>, else the process's memory), where each
    /// report is built from the sum of every instance's counts. Also at stop, and before this instance sends reports.
    /// Counts not yet added when the process dies are lost (never counted twice). A day's reports wait two intervals
    /// after midnight, so that every instance's last counts of the day are in. Default 1 minute; 1 second to 1 hour.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait for an <c>https:</c> destination's answer. Default 30 seconds.</summary>
    public TimeSpan HttpsTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is missing or invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OrganizationName) || HasControl(OrganizationName))
        {
            throw new ArgumentException("OrganizationName is required, on one line.", nameof(OrganizationName));
        }

        if (!IsDomain(SubmitterDomain))
        {
            throw new ArgumentException("SubmitterDomain is required: an ASCII domain name such as mail.example.com.", nameof(SubmitterDomain));
        }

        var at = ReportSender.LastIndexOf('@');
        if (at <= 0 || !IsDomain(ReportSender[(at + 1)..]) || HasSpaceOrControl(ReportSender))
        {
            throw new ArgumentException("ReportSender is required: a mailbox such as tlsrpt-noreply@example.com.", nameof(ReportSender));
        }

        if (HasControl(ContactInfo))
        {
            throw new ArgumentException("ContactInfo is one line.", nameof(ContactInfo));
        }

        if (MaxSendDelay < TimeSpan.Zero || MaxSendDelay > TimeSpan.FromHours(12))
        {
            throw new ArgumentException("MaxSendDelay is between 0 and 12 hours.", nameof(MaxSendDelay));
        }

        if (RetryInterval < TimeSpan.FromSeconds(1) || RetryInterval > TimeSpan.FromHours(12))
        {
            throw new ArgumentException("RetryInterval is between 1 second and 12 hours.", nameof(RetryInterval));
        }

        if (FlushInterval < TimeSpan.FromSeconds(1) || FlushInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException("FlushInterval is between 1 second and 1 hour.", nameof(FlushInterval));
        }

        if (HttpsTimeout <= TimeSpan.Zero || HttpsTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException("HttpsTimeout is more than 0 and at most 10 minutes.", nameof(HttpsTimeout));
        }
    }

    internal TlsReportingOptions Clone() => (TlsReportingOptions)MemberwiseClone();

    internal string EffectiveContactInfo => ContactInfo.Length > 0 ? ContactInfo : ReportSender;

    private static bool IsDomain(string name)
    {
        if (name.Length is 0 or > 253 || name[0] == '.' || name[^1] == '.' || name.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasControl(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasSpaceOrControl(string value)
    {
        foreach (var c in value)
        {
            if (c <= ' ' || char.IsControl(c) || c is '<' or '>' or '"')
            {
                return true;
            }
        }

        return false;
    }
}
