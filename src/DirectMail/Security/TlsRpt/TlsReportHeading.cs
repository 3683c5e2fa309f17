namespace DirectMail.Security.TlsRpt;

/// <summary>What a report says about who sent it (RFC 8460 section 4.4).</summary>
/// <param name="OrganizationName">The sending organization (<c>organization-name</c>).</param>
/// <param name="ContactInfo">Whom to ask about the report (<c>contact-info</c>): an address or a URI.</param>
/// <param name="Submitter">The submitter's domain (<c>TLS-Report-Submitter</c>, the file name's first part).</param>
/// <param name="ReportId">The report's unique id (<c>report-id</c>).</param>
internal sealed record TlsReportHeading(string OrganizationName, string ContactInfo, string Submitter, string ReportId);
