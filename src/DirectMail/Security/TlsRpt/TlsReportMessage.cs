using System;
using System.Globalization;
using System.Text;
using DirectMail.Mime;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// The message that carries a report to a <c>mailto:</c> destination (RFC 8460 section 5.3): the Subject and the
/// <c>TLS-Report-Domain</c> and <c>TLS-Report-Submitter</c> fields, <c>multipart/report; report-type="tlsrpt"</c>
/// with a short text part and the gzip report as <c>application/tlsrpt+gzip</c>, and <c>TLS-Required: No</c>
/// (RFC 8689 section 5): a report about TLS failing must still get through when TLS fails.
/// </summary>
internal static class TlsReportMessage
{
    /// <summary>The report's file name (RFC 8460 section 5.3): submitter!policy-domain!begin!end!id.json.gz, times in seconds since 1970.</summary>
    public static string FileName(TlsReportHeading heading, TlsReportDomainDay report)
    {
        var (start, end) = TlsReportJson.Range(report.Day);
        return string.Create(CultureInfo.InvariantCulture, $"{heading.Submitter}!{report.PolicyDomain}!{start.ToUnixTimeSeconds()}!{end.ToUnixTimeSeconds()}!{heading.ReportId}.json.gz");
    }

    /// <summary>Writes the whole message (CRLF lines, 7-bit).</summary>
    /// <param name="from">The From mailbox (the report sender).</param>
    /// <param name="to">The destination mailbox.</param>
    /// <param name="heading">Who reports.</param>
    /// <param name="report">What is reported.</param>
    /// <param name="gzip">The report's gzip form.</param>
    /// <param name="date">The Date field's value.</param>
    /// <param name="random">Boundary and Message-ID.</param>
    public static byte[] Write(string from, string to, TlsReportHeading heading, TlsReportDomainDay report, ReadOnlySpan<byte> gzip, DateTimeOffset date, MimeRandom random)
    {
        CheckHeaderValue(from, nameof(from));
        CheckHeaderValue(to, nameof(to));
        CheckHeaderValue(heading.Submitter, nameof(heading));
        CheckHeaderValue(heading.ReportId, nameof(heading));
        CheckHeaderValue(report.PolicyDomain, nameof(report));

        var boundary = random.CreateBoundary();
        Span<char> dateText = stackalloc char[MimeSyntax.MaxDateLength];
        var dateLength = MimeSyntax.FormatDate(date, dateText);
        var text = new StringBuilder(1024 + gzip.Length * 4 / 3);
        text.Append("Date: ").Append(dateText[..dateLength]).Append("\r\n");
        text.Append("From: <").Append(from).Append(">\r\n");
        text.Append("To: <").Append(to).Append(">\r\n");

        // Folded as RFC 8460's example folds it: each part on a line of its own stays under 78 characters for long names.
        text.Append("Subject: Report Domain: ").Append(report.PolicyDomain).Append("\r\n");
        text.Append(" Submitter: ").Append(heading.Submitter).Append("\r\n");
        text.Append(" Report-ID: <").Append(heading.ReportId).Append(">\r\n");
        text.Append("Message-ID: <").Append(random.CreateMessageIdLocalPart()).Append('@').Append(heading.Submitter).Append(">\r\n");
        text.Append("TLS-Report-Domain: ").Append(report.PolicyDomain).Append("\r\n");
        text.Append("TLS-Report-Submitter: ").Append(heading.Submitter).Append("\r\n");
        text.Append("TLS-Required: No\r\n");
        text.Append("Auto-Submitted: auto-generated\r\n");
        text.Append("MIME-Version: 1.0\r\n");
        text.Append("Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n");
        text.Append("\tboundary=\"").Append(boundary).Append("\"\r\n");
        text.Append("\r\n");
        text.Append("This is a multipart message in MIME format.\r\n");
        text.Append("\r\n");
        text.Append("--").Append(boundary).Append("\r\n");
        text.Append("Content-Type: text/plain; charset=us-ascii\r\n");
        text.Append("Content-Transfer-Encoding: 7bit\r\n");
        text.Append("\r\n");
        text.Append("This is an aggregate TLS report (RFC 8460) from ").Append(heading.Submitter).Append("\r\n");
        text.Append("for ").Append(report.PolicyDomain).Append(", ")
            .Append(report.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(" (UTC).\r\n");
        text.Append("\r\n");
        text.Append("--").Append(boundary).Append("\r\n");
        text.Append("Content-Type: application/tlsrpt+gzip\r\n");
        text.Append("Content-Transfer-Encoding: base64\r\n");
        text.Append("Content-Disposition: attachment;\r\n");
        text.Append("\tfilename=\"").Append(FileName(heading, report)).Append("\"\r\n");
        text.Append("\r\n");
        var base64 = Convert.ToBase64String(gzip);
        for (var i = 0; i < base64.Length; i += 76)
        {
            text.Append(base64, i, Math.Min(76, base64.Length - i)).Append("\r\n");
        }

        text.Append("\r\n--").Append(boundary).Append("--\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// Header values here come from DNS (the rua mailbox) and from recipient domains: only visible ASCII, so that no
    /// value can end a field or start one of its own (header injection) or make the message 8-bit.
    /// </summary>
    private static void CheckHeaderValue(string value, string paramName)
    {
        foreach (var c in value)
        {
            if (c <= ' ' || c >= 0x7F || c is '<' or '>' or '"')
            {
                throw new ArgumentException("A report's header value must be visible ASCII without <, > or \".", paramName);
            }
        }
    }
}
