using System;
using System.Linq;
using DirectMail.Security.TlsRpt;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>The <c>_smtp._tls</c> TXT record, rule by rule of RFC 8460 section 3.</summary>
public sealed class TlsRptRecordTests
{
    [Fact]
    public void A_mailto_destination_is_its_mailbox()
    {
        var record = Parse("v=TLSRPTv1; rua=mailto:reports@example.com");

        Assert.Equal(["reports@example.com"], record.MailtoAddresses.ToArray());
        Assert.Empty(record.HttpsEndpoints);
    }

    [Fact]
    public void An_https_destination_is_its_uri()
    {
        var record = Parse("v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt");

        Assert.Equal(new Uri("https://reporting.example.com/v1/tlsrpt"), Assert.Single(record.HttpsEndpoints));
    }

    [Fact]
    public void Several_destinations_separated_by_commas_and_spaces_are_all_kept()
    {
        var record = Parse("v=TLSRPTv1; rua=mailto:a@example.com , https://r.example.com/x,mailto:b@example.net");

        Assert.Equal(["a@example.com", "b@example.net"], record.MailtoAddresses.ToArray());
        Assert.Equal("https://r.example.com/x", Assert.Single(record.HttpsEndpoints).ToString());
    }

    [Fact]
    public void A_trailing_delimiter_and_spaces_around_delimiters_are_allowed()
    {
        var record = Parse("v=TLSRPTv1 ;\trua=mailto:a@example.com ; ");

        Assert.Equal(["a@example.com"], record.MailtoAddresses.ToArray());
    }

    [Fact]
    public void A_well_formed_unknown_field_is_ignored()
    {
        // RFC 8460 section 3: parsers accept records of a superset of the specification and ignore unknown fields.
        var record = Parse("v=TLSRPTv1; ext_1.x=value!; rua=mailto:a@example.com");

        Assert.Equal(["a@example.com"], record.MailtoAddresses.ToArray());
    }

    [Fact]
    public void A_mailto_mailbox_is_percent_decoded_and_its_headers_ignored()
    {
        var record = Parse("v=TLSRPTv1; rua=mailto:tls%2Breports@example.com?subject=x");

        Assert.Equal(["tls+reports@example.com"], record.MailtoAddresses.ToArray());
    }

    [Fact]
    public void A_scheme_this_sender_cannot_use_is_skipped_and_the_others_still_serve()
    {
        var record = Parse("v=TLSRPTv1; rua=ftp://example.com/r,mailto:a@example.com");

        Assert.Equal(["a@example.com"], record.MailtoAddresses.ToArray());
    }

    [Fact]
    public void At_most_five_destinations_are_used()
    {
        // Stops a record from turning one daily report into hundreds of messages or posts (amplification).
        var rua = string.Join(",", Array.ConvertAll(new int[20], _ => "mailto:a@example.com"));

        Assert.Equal(TlsRptRecord.MaxDestinations, Parse("v=TLSRPTv1; rua=" + rua).MailtoAddresses.Length);
    }

    [Theory]
    [InlineData("v=TLSRPTv1", "no fields")] // the version alone: 1*(field-delim field) is required
    [InlineData("v=TLSRPTv1;", "no fields")]
    [InlineData("v=TLSRPTv1; ext=1", "no rua")]
    [InlineData("V=TLSRPTv1; rua=mailto:a@example.com", "version is case-sensitive")]
    [InlineData("v=TLSRPTv2; rua=mailto:a@example.com", "another version")]
    [InlineData("v=TLSRPTv10; rua=mailto:a@example.com", "a longer version")]
    [InlineData("rua=mailto:a@example.com; v=TLSRPTv1", "version not first")]
    [InlineData("v=TLSRPTv1 rua=mailto:a@example.com", "no delimiter")]
    [InlineData("v=TLSRPTv1;; rua=mailto:a@example.com", "an empty field")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "rua twice")]
    [InlineData("v=TLSRPTv1; rua=", "empty rua")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com", "empty URI")]
    [InlineData("v=TLSRPTv1; rua=ftp://example.com/r", "no usable scheme")]
    [InlineData("v=TLSRPTv1; rua=reports@example.com", "not a URI")]
    [InlineData("v=TLSRPTv1; rua=mailto:", "mailto without mailbox")]
    [InlineData("v=TLSRPTv1; rua=mailto:nobody", "mailto without domain")]
    [InlineData("v=TLSRPTv1; rua=https:///path", "https without host")]
    [InlineData("v=TLSRPTv1; rua=https://user:pw@example.com/", "https with credentials")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; =x", "a field without name")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; _x=1", "extension name starting with _")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; x=", "extension without value")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; x=a=b", "extension value with =")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; x=a b", "extension value with a space")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@example.com; abcdefghijabcdefghijabcdefghijabc=1", "extension name of 33 characters")]
    public void A_malformed_record_is_rejected(string text, string why)
    {
        Assert.False(TlsRptRecord.TryParse(text, out var record, out var error), why);
        Assert.Null(record);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("v=TLSRPTv1; rua=mailto:a%0D%0ARCPT%20TO:<x@evil>@example.com")]
    [InlineData("v=TLSRPTv1; rua=mailto:a%3E@example.com")]
    [InlineData("v=TLSRPTv1; rua=mailto:a b@example.com")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@exämple.com")]
    public void A_mailbox_that_would_break_an_smtp_command_or_a_header_is_rejected(string text)
    {
        // The record is the receiving domain's (or an attacker's): a decoded CR LF must not become an SMTP command,
        // nor a ">" end the address early.
        Assert.False(TlsRptRecord.TryParse(text, out _, out _));
    }

    [Fact]
    public void Of_several_TXT_records_those_not_starting_with_the_version_are_discarded()
    {
        Assert.True(TlsRptRecord.TrySelect(["google-site-verification=abc", "v=TLSRPTv1; rua=mailto:a@example.com", "v=spf1 -all"], out var record, out _));
        Assert.Equal(["a@example.com"], record!.MailtoAddresses.ToArray());
    }

    [Fact]
    public void Two_version_records_mean_the_domain_does_not_implement_tls_rpt()
    {
        Assert.False(TlsRptRecord.TrySelect(["v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"], out var record, out var error));
        Assert.Null(record);
        Assert.Contains("2", error);
    }

    [Fact]
    public void No_version_record_means_no_reports()
    {
        Assert.False(TlsRptRecord.TrySelect(["v=spf1 -all"], out var record, out _));
        Assert.Null(record);
    }

    private static TlsRptRecord Parse(string text)
    {
        Assert.True(TlsRptRecord.TryParse(text, out var record, out var error), error);
        return record!;
    }
}
