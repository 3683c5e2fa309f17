using DirectMail.Security.MtaSts;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>MX host matching against a policy's mx patterns (RFC 8461 section 4.1).</summary>
public sealed class MtaStsMxPatternTests
{
    private static readonly MtaStsPolicy Policy = MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 60\n", out _)!;

    [Theory]
    [InlineData("mail.example.com")]
    [InlineData("MAIL.Example.Com")]
    [InlineData("mail.example.com.")]
    [InlineData("mx1.example.net")]
    [InlineData("MX1.EXAMPLE.NET")]
    public void Matching_hosts(string host) => Assert.True(Policy.Matches(host));

    [Theory]
    [InlineData("example.net")] // the wildcard needs a label
    [InlineData("a.b.example.net")] // exactly one leftmost label
    [InlineData("mx1.example.net.evil.test")]
    [InlineData("evilexample.net")]
    [InlineData("xmail.example.com")]
    [InlineData("mail.example.com.evil.test")]
    [InlineData("other.example.com")]
    public void Hosts_that_do_not_match(string host)
    {
        // Stops: an attacker's MX (a spoofed MX answer) passing as one the domain owner named.
        Assert.False(Policy.Matches(host));
    }
}
