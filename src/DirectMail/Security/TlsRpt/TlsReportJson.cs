using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text.Json;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Writes a report as the JSON of RFC 8460 section 4.4 with <see cref="Utf8JsonWriter"/> (no reflection: AOT and trim
/// safe), and its gzip form (<c>application/tlsrpt+gzip</c>, section 5.3).
/// </summary>
internal static class TlsReportJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = false, SkipValidation = false };

    /// <summary>The report's time span: the whole UTC day, as RFC 8460's example writes it (00:00:00Z to 23:59:59Z).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Range(DateOnly day)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return (start, start.AddDays(1).AddSeconds(-1));
    }

    public static byte[] Write(TlsReportHeading heading, TlsReportDomainDay report)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            Write(json, heading, report);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] WriteGzip(TlsReportHeading heading, TlsReportDomainDay report)
    {
        var json = Write(heading, report);
        using var compressed = new MemoryStream(json.Length / 4 + 64);
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(json);
        }

        return compressed.ToArray();
    }

    private static void Write(Utf8JsonWriter json, TlsReportHeading heading, TlsReportDomainDay report)
    {
        var (start, end) = Range(report.Day);
        json.WriteStartObject();
        json.WriteString("organization-name"u8, heading.OrganizationName);
        json.WriteStartObject("date-range"u8);
        json.WriteString("start-datetime"u8, Rfc3339(start));
        json.WriteString("end-datetime"u8, Rfc3339(end));
        json.WriteEndObject();
        json.WriteString("contact-info"u8, heading.ContactInfo);
        json.WriteString("report-id"u8, heading.ReportId);
        json.WriteStartArray("policies"u8);
        foreach (var policy in report.Policies)
        {
            json.WriteStartObject();
            json.WriteStartObject("policy"u8);
            json.WriteString("policy-type"u8, TlsNames.Of(policy.PolicyType));
            if (!policy.PolicyStrings.IsDefaultOrEmpty)
            {
                json.WriteStartArray("policy-string"u8);
                foreach (var line in policy.PolicyStrings)
                {
                    json.WriteStringValue(line);
                }

                json.WriteEndArray();
            }

            json.WriteString("policy-domain"u8, policy.PolicyDomain);
            if (!policy.MxHosts.IsDefaultOrEmpty)
            {
                json.WriteStartArray("mx-host"u8);
                foreach (var host in policy.MxHosts)
                {
                    json.WriteStringValue(host);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteStartObject("summary"u8);
            json.WriteNumber("total-successful-session-count"u8, policy.SuccessfulSessions);
            json.WriteNumber("total-failure-session-count"u8, policy.FailedSessions);
            json.WriteEndObject();
            if (!policy.Failures.IsDefaultOrEmpty)
            {
                json.WriteStartArray("failure-details"u8);
                foreach (var failure in policy.Failures)
                {
                    json.WriteStartObject();
                    json.WriteString("result-type"u8, TlsNames.Of(failure.ResultType));
                    if (failure.SendingAddress is { } sending)
                    {
                        json.WriteString("sending-mta-ip"u8, sending.ToString());
                    }

                    json.WriteString("receiving-mx-hostname"u8, failure.ReceivingMxHost);
                    if (failure.ReceivingHelo is { } helo)
                    {
                        json.WriteString("receiving-mx-helo"u8, helo);
                    }

                    if (failure.ReceivingAddress is { } receiving)
                    {
                        json.WriteString("receiving-ip"u8, receiving.ToString());
                    }

                    json.WriteNumber("failed-session-count"u8, failure.FailedSessions);
                    if (failure.ReasonCode is { } reason)
                    {
                        json.WriteString("failure-reason-code"u8, reason);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
