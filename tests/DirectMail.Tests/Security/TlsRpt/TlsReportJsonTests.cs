using System;
using System.Collections.Immutable;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>The report's JSON (RFC 8460 section 4.4), read back with System.Text.Json field by field.</summary>
public sealed class TlsReportJsonTests
{
    private static readonly TlsReportHeading Heading = new("Company-X", "sts-reporting@company-x.example", "company-x.example", "5065427c-23d3-47ca-b6e0-946ea0e8c4be");

    [Fact]
    public void Every_field_of_the_report_is_written()
    {
        var report = new TlsReportDomainDay(new DateOnly(2026, 12, 1), "example.com",
        [
            new TlsReportPolicy("example.com", TlsPolicyType.Sts, ["version: STSv1", "mode: enforce"], ["*.mail.example.com"], 10, 2,
            [
                new TlsReportFailure(TlsFailureType.CertificateHostMismatch, IPAddress.Parse("192.0.2.1"), "mx1.mail.example.com", IPAddress.Parse("198.51.100.1"), 2, "name mismatch"),
            ]),
        ]);

        using var json = JsonDocument.Parse(TlsReportJson.Write(Heading, report));
        var root = json.RootElement;

        Assert.Equal("Company-X", root.GetProperty("organization-name").GetString());
        Assert.Equal("2026-12-01T00:00:00Z", root.GetProperty("date-range").GetProperty("start-datetime").GetString());
        Assert.Equal("2026-12-01T23:59:59Z", root.GetProperty("date-range").GetProperty("end-datetime").GetString());
        Assert.Equal("sts-reporting@company-x.example", root.GetProperty("contact-info").GetString());
        Assert.Equal("5065427c-23d3-47ca-b6e0-946ea0e8c4be", root.GetProperty("report-id").GetString());
        var entry = Assert.Single(root.GetProperty("policies").EnumerateArray());
        var policy = entry.GetProperty("policy");
        Assert.Equal("sts", policy.GetProperty("policy-type").GetString());
        Assert.Equal(["version: STSv1", "mode: enforce"], policy.GetProperty("policy-string").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("example.com", policy.GetProperty("policy-domain").GetString());
        Assert.Equal(["*.mail.example.com"], policy.GetProperty("mx-host").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(10, entry.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64());
        Assert.Equal(2, entry.GetProperty("summary").GetProperty("total-failure-session-count").GetInt64());
        var failure = Assert.Single(entry.GetProperty("failure-details").EnumerateArray());
        Assert.Equal("certificate-host-mismatch", failure.GetProperty("result-type").GetString());
        Assert.Equal("192.0.2.1", failure.GetProperty("sending-mta-ip").GetString());
        Assert.Equal("mx1.mail.example.com", failure.GetProperty("receiving-mx-hostname").GetString());
        Assert.Equal("198.51.100.1", failure.GetProperty("receiving-ip").GetString());
        Assert.Equal(2, failure.GetProperty("failed-session-count").GetInt64());
        Assert.Equal("name mismatch", failure.GetProperty("failure-reason-code").GetString());
    }

    [Fact]
    public void No_policy_found_has_no_policy_strings_and_no_failure_details_when_nothing_failed()
    {
        var report = new TlsReportDomainDay(new DateOnly(2026, 12, 1), "example.net",
            [new TlsReportPolicy("example.net", TlsPolicyType.NoPolicyFound, [], [], 7, 0, [])]);

        using var json = JsonDocument.Parse(TlsReportJson.Write(Heading, report));
        var entry = Assert.Single(json.RootElement.GetProperty("policies").EnumerateArray());

        Assert.Equal("no-policy-found", entry.GetProperty("policy").GetProperty("policy-type").GetString());
        Assert.False(entry.GetProperty("policy").TryGetProperty("policy-string", out _));
        Assert.False(entry.GetProperty("policy").TryGetProperty("mx-host", out _));
        Assert.False(entry.TryGetProperty("failure-details", out _));
        Assert.Equal(7, entry.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64());
    }

    [Theory]
    [InlineData(TlsFailureType.StartTlsNotSupported, "starttls-not-supported")]
    [InlineData(TlsFailureType.CertificateHostMismatch, "certificate-host-mismatch")]
    [InlineData(TlsFailureType.CertificateExpired, "certificate-expired")]
    [InlineData(TlsFailureType.CertificateNotTrusted, "certificate-not-trusted")]
    [InlineData(TlsFailureType.ValidationFailure, "validation-failure")]
    [InlineData(TlsFailureType.TlsaInvalid, "tlsa-invalid")]
    [InlineData(TlsFailureType.DnssecInvalid, "dnssec-invalid")]
    [InlineData(TlsFailureType.DaneRequired, "dane-required")]
    [InlineData(TlsFailureType.StsPolicyFetchError, "sts-policy-fetch-error")]
    [InlineData(TlsFailureType.StsPolicyInvalid, "sts-policy-invalid")]
    [InlineData(TlsFailureType.StsWebPkiInvalid, "sts-webpki-invalid")]
    public void Each_failure_type_has_its_rfc_8460_name(TlsFailureType type, string name)
    {
        Assert.Equal(name, TlsNames.Of(type));
    }

    [Fact]
    public void Every_failure_type_is_named()
    {
        // A type added to the enum without a name here would be reported as validation-failure by the fallback.
        var names = Enum.GetValues<TlsFailureType>().Select(t => TlsNames.Of(t)).ToArray();
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Fact]
    public void Text_from_the_network_is_escaped_not_copied_into_the_json()
    {
        // The failure reason is the peer's handshake text: a quote in it must not end the JSON string.
        var report = new TlsReportDomainDay(new DateOnly(2026, 12, 1), "example.com",
            [new TlsReportPolicy("example.com", TlsPolicyType.NoPolicyFound, [], [], 0, 1, [new TlsReportFailure(TlsFailureType.ValidationFailure, null, "mx", null, 1, "\"}],\"x\":\n")])]);

        using var json = JsonDocument.Parse(TlsReportJson.Write(Heading, report));
        var failure = json.RootElement.GetProperty("policies")[0].GetProperty("failure-details")[0];
        Assert.Equal("\"}],\"x\":\n", failure.GetProperty("failure-reason-code").GetString());
        Assert.False(json.RootElement.TryGetProperty("x", out _));
    }

    [Fact]
    public void The_gzip_form_decompresses_to_the_json()
    {
        var report = new TlsReportDomainDay(new DateOnly(2026, 12, 1), "example.net",
            [new TlsReportPolicy("example.net", TlsPolicyType.NoPolicyFound, [], [], 7, 0, [])]);

        using var gzip = new GZipStream(new MemoryStream(TlsReportJson.WriteGzip(Heading, report)), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);

        Assert.Equal(TlsReportJson.Write(Heading, report), plain.ToArray());
    }

    [Fact]
    public void The_rfc_8460_example_report_is_written_as_the_rfc_shows_it()
    {
        // RFC 8460 appendix B, with its data. Two differences of form only: the IPv6 address in its canonical
        // text (RFC 5952, as IPAddress writes it), and the second failure's additional-information URI left out
        // (this sender has no page per failure to point to); failure-details compared in result-type order.
        const string Rfc = """
            {
              "organization-name": "Company-X",
              "date-range": {
                "start-datetime": "2016-04-01T00:00:00Z",
                "end-datetime": "2016-04-01T23:59:59Z"
              },
              "contact-info": "sts-reporting@company-x.example",
              "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
              "policies": [{
                "policy": {
                  "policy-type": "sts",
                  "policy-string": ["version: STSv1","mode: testing",
                        "mx: *.mail.company-y.example","max_age: 86400"],
                  "policy-domain": "company-y.example",
                  "mx-host": ["*.mail.company-y.example"]
                },
                "summary": {
                  "total-successful-session-count": 5326,
                  "total-failure-session-count": 303
                },
                "failure-details": [{
                  "result-type": "certificate-expired",
                  "sending-mta-ip": "2001:db8:abcd:12::1",
                  "receiving-mx-hostname": "mx1.mail.company-y.example",
                  "failed-session-count": 100
                }, {
                  "result-type": "starttls-not-supported",
                  "sending-mta-ip": "2001:db8:abcd:13::1",
                  "receiving-mx-hostname": "mx2.mail.company-y.example",
                  "receiving-ip": "203.0.113.56",
                  "failed-session-count": 200
                }, {
                  "result-type": "validation-failure",
                  "sending-mta-ip": "198.51.100.62",
                  "receiving-ip": "203.0.113.58",
                  "receiving-mx-hostname": "mx-backup.mail.company-y.example",
                  "failed-session-count": 3,
                  "failure-reason-code": "X509_V_ERR_PROOF_OF_POSSESSION"
                }]
              }]
            }
            """;
        var report = new TlsReportDomainDay(new DateOnly(2016, 4, 1), "company-y.example",
        [
            new TlsReportPolicy("company-y.example", TlsPolicyType.Sts, ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"], ["*.mail.company-y.example"], 5326, 303,
            [
                new TlsReportFailure(TlsFailureType.StartTlsNotSupported, IPAddress.Parse("2001:db8:abcd:0013::1"), "mx2.mail.company-y.example", IPAddress.Parse("203.0.113.56"), 200, null),
                new TlsReportFailure(TlsFailureType.CertificateExpired, IPAddress.Parse("2001:db8:abcd:0012::1"), "mx1.mail.company-y.example", null, 100, null),
                new TlsReportFailure(TlsFailureType.ValidationFailure, IPAddress.Parse("198.51.100.62"), "mx-backup.mail.company-y.example", IPAddress.Parse("203.0.113.58"), 3, "X509_V_ERR_PROOF_OF_POSSESSION"),
            ]),
        ]);

        var written = Normalized(JsonNode.Parse(TlsReportJson.Write(Heading, report))!);
        var expected = Normalized(JsonNode.Parse(Rfc)!);

        Assert.True(JsonNode.DeepEquals(expected, written), written.ToJsonString());
    }

    private static JsonNode Normalized(JsonNode report)
    {
        foreach (var policy in report["policies"]!.AsArray())
        {
            var details = policy!["failure-details"]!.AsArray();
            var sorted = details.Select(d => d!.DeepClone()).OrderBy(d => d["result-type"]!.GetValue<string>(), StringComparer.Ordinal).ToArray();
            details.Clear();
            foreach (var d in sorted)
            {
                details.Add(d);
            }
        }

        return report;
    }
}
