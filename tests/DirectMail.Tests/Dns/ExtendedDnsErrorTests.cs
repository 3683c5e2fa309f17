using System;
using System.Linq;
using System.Text;
using DirectMail.Dns;

namespace DirectMail.Tests.Dns;

/// <summary>
/// The Extended DNS Error reader (RFC 8914) over the OPT record's options, byte by byte: what it finds, what it skips,
/// and what a damaged or hostile record cannot make it do (read past the end, put a line break into a reason).
/// </summary>
public sealed class ExtendedDnsErrorTests
{
    [Fact]
    public void An_EDE_option_gives_its_info_code_and_text()
    {
        var error = ExtendedDnsError.Parse(Option(15, Ede(6, "validation failure <bogus.dane.test. TLSA IN>: signature crypto failed")));

        Assert.Equal(new ExtendedDnsError(6, "validation failure <bogus.dane.test. TLSA IN>: signature crypto failed"), error);
        Assert.Equal("DNSSEC Bogus", error!.Value.Name);
        Assert.True(error.Value.IsDnssecFailure);
        Assert.Equal("Extended DNS Error 6 (DNSSEC Bogus): validation failure <bogus.dane.test. TLSA IN>: signature crypto failed", error.Value.ToString());
    }

    [Fact]
    public void Other_options_before_it_are_skipped_by_their_length()
    {
        // A cookie (10) and padding (12) first, as resolvers send them.
        var options = Option(10, new byte[24]).Concat(Option(12, new byte[7])).Concat(Option(15, Ede(22, "no server"))).ToArray();

        Assert.Equal(new ExtendedDnsError(22, "no server"), ExtendedDnsError.Parse(options));
    }

    [Fact]
    public void Without_extra_text_the_reason_is_the_code_and_its_name()
    {
        var error = ExtendedDnsError.Parse(Option(15, Ede(7, null)))!.Value;

        Assert.Equal(string.Empty, error.ExtraText);
        Assert.Equal("Extended DNS Error 7 (Signature Expired)", error.ToString());
    }

    [Fact]
    public void The_first_of_several_is_taken()
    {
        var options = Option(15, Ede(9, "first")).Concat(Option(15, Ede(22, "second"))).ToArray();

        Assert.Equal(9, ExtendedDnsError.Parse(options)!.Value.InfoCode);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0, 15, 0 })] // shorter than an option's code and length
    [InlineData(new byte[] { 0, 15, 0, 9, 0, 6 })] // a length past the end: not read beyond the record
    [InlineData(new byte[] { 0, 15, 0, 1, 6 })] // an EDE option shorter than its INFO-CODE
    [InlineData(new byte[] { 0, 10, 0, 2, 1, 2 })] // options, none of them an EDE
    [InlineData(new byte[] { 0, 10, 255, 255, 0, 15, 0, 2, 0, 6 })] // an earlier option's length swallows the rest
    public void No_EDE_or_a_damaged_record_gives_none(byte[] options)
    {
        Assert.Null(ExtendedDnsError.Parse(options));
    }

    [Fact]
    public void Control_characters_in_the_text_cannot_break_a_reply_or_log_line()
    {
        // Stops: a resolver (or whoever forged its answer) putting CR LF into EXTRA-TEXT, which DirectMail puts into
        // the deferral reason, the log line and the TLS report: "...\r\n250 OK" must not read as a second line.
        var error = ExtendedDnsError.Parse(Option(15, Ede(6, "bad\r\n250 2.0.0 OK\0\tx\0")))!.Value;

        Assert.Equal("bad  250 2.0.0 OK  x", error.ExtraText);
        Assert.DoesNotContain('\r', error.ToString());
        Assert.DoesNotContain('\n', error.ToString());
    }

    [Fact]
    public void Long_text_is_cut_and_invalid_UTF8_is_replaced()
    {
        var error = ExtendedDnsError.Parse(Option(15, Ede(0, new string('x', 5000))))!.Value;
        Assert.Equal(200, error.ExtraText.Length);

        var invalid = Ede(0, null).Concat(new byte[] { (byte)'a', 0xff, 0xfe, (byte)'b' }).ToArray();
        Assert.Equal("a\uFFFD\uFFFDb", ExtendedDnsError.Parse(Option(15, invalid))!.Value.ExtraText);
    }

    [Theory]
    [InlineData(0, "Other Error", false)]
    [InlineData(1, "Unsupported DNSKEY Algorithm", true)]
    [InlineData(2, "Unsupported DS Digest Type", true)]
    [InlineData(3, "Stale Answer", false)]
    [InlineData(4, "Forged Answer", false)]
    [InlineData(5, "DNSSEC Indeterminate", true)]
    [InlineData(6, "DNSSEC Bogus", true)]
    [InlineData(7, "Signature Expired", true)]
    [InlineData(8, "Signature Not Yet Valid", true)]
    [InlineData(9, "DNSKEY Missing", true)]
    [InlineData(10, "RRSIGs Missing", true)]
    [InlineData(11, "No Zone Key Bit Set", true)]
    [InlineData(12, "NSEC Missing", true)]
    [InlineData(13, "Cached Error", false)]
    [InlineData(18, "Prohibited", false)]
    [InlineData(22, "No Reachable Authority", false)]
    [InlineData(23, "Network Error", false)]
    [InlineData(24, "Invalid Data", false)]
    [InlineData(49152, "info-code 49152", false)]
    public void Codes_are_named_and_the_DNSSEC_ones_told_apart(int code, string name, bool dnssec)
    {
        var error = new ExtendedDnsError((ushort)code, string.Empty);

        Assert.Equal(name, error.Name);
        Assert.Equal(dnssec, error.IsDnssecFailure);
    }

    /// <summary>One EDNS option: OPTION-CODE, OPTION-LENGTH, OPTION-DATA (RFC 6891 section 6.1.2).</summary>
    private static byte[] Option(ushort code, byte[] data)
        => [(byte)(code >> 8), (byte)code, (byte)(data.Length >> 8), (byte)data.Length, .. data];

    /// <summary>An EDE option's data: INFO-CODE, then EXTRA-TEXT (RFC 8914 section 2).</summary>
    private static byte[] Ede(ushort infoCode, string? text)
        => [(byte)(infoCode >> 8), (byte)infoCode, .. text is null ? [] : Encoding.UTF8.GetBytes(text)];
}
