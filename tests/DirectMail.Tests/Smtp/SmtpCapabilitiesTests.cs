using DirectMail.Smtp;

namespace DirectMail.Tests.Smtp;

public sealed class SmtpCapabilitiesTests
{
    private static SmtpCapabilities Parse(params string[] lines) => SmtpCapabilities.Parse(new SmtpReply(250, lines));

    [Fact]
    public void Known_extensions_become_flags()
    {
        var caps = Parse("mx.example.com Hello", "PIPELINING", "SIZE 35882577", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "CHUNKING", "DSN", "BINARYMIME");
        Assert.Equal(
            SmtpExtensions.Pipelining | SmtpExtensions.Size | SmtpExtensions.EightBitMime | SmtpExtensions.SmtpUtf8 | SmtpExtensions.EnhancedStatusCodes
            | SmtpExtensions.StartTls | SmtpExtensions.Chunking | SmtpExtensions.Dsn | SmtpExtensions.BinaryMime,
            caps.Extensions);
        Assert.Equal(35882577, caps.MaxMessageSize);
        Assert.Equal("mx.example.com", caps.ServerDomain);
        Assert.True(caps.IsExtended);
    }

    [Fact]
    public void Size_zero_or_without_value_means_no_fixed_limit()
    {
        Assert.Null(Parse("mx", "SIZE 0").MaxMessageSize);
        Assert.Null(Parse("mx", "SIZE").MaxMessageSize);
        Assert.True(Parse("mx", "SIZE").Supports(SmtpExtensions.Size));
    }

    [Fact]
    public void Unknown_extensions_stay_readable_with_their_parameters()
    {
        var caps = Parse("mx", "AUTH LOGIN PLAIN", "X-EXPS GSSAPI NTLM", "XCLIENT NAME ADDR", "auth=LOGIN");
        Assert.Equal("LOGIN PLAIN", caps.Keywords["AUTH"]);
        Assert.Equal("GSSAPI NTLM", caps.Keywords["x-exps"]);
        Assert.True(caps.Keywords.ContainsKey("XCLIENT"));
        Assert.Equal(SmtpExtensions.None, caps.Extensions);
    }

    [Fact]
    public void Keywords_are_case_insensitive()
    {
        var caps = Parse("mx", "pipelining", "8bitmime");
        Assert.True(caps.Supports(SmtpExtensions.Pipelining | SmtpExtensions.EightBitMime));
    }

    [Fact]
    public void Helo_server_has_no_extensions()
    {
        var caps = SmtpCapabilities.FromHelo(new SmtpReply(250, new[] { "old.example.com" }));
        Assert.False(caps.IsExtended);
        Assert.Equal(SmtpExtensions.None, caps.Extensions);
        Assert.Equal("old.example.com", caps.ServerDomain);
    }
}
