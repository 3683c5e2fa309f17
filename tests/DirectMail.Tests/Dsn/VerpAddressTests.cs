using System;
using DirectMail.Dsn;

namespace DirectMail.Tests.Dsn;

/// <summary>VERP sender addresses: the exact form, and every recipient (odd local parts included) decoded back as it was.</summary>
public sealed class VerpAddressTests
{
    [Fact]
    public void A_plain_recipient_is_the_classic_local_equals_domain_form()
    {
        Assert.Equal("bounces+q7f3a-jane.doe=example.org@bounce.client.test", VerpAddress.Encode("bounces", "q7f3a", "jane.doe@example.org", "bounce.client.test"));
    }

    [Theory]
    [InlineData("q1", "jane@example.org")]
    [InlineData("q-with-dashes", "list+news@example.org")]
    [InlineData("Q=1+2", "a=b@example.org")]
    [InlineData("q2", "\"john doe\"@example.org")]
    [InlineData("q3", "\"a@b\"@example.org")]
    [InlineData("q4", "jürgen@bücher.example")]
    [InlineData("q5", "用户@例子.广告")]
    [InlineData("q6", "a..b.@example.org")]
    [InlineData("q7", ".dot@example.org")]
    [InlineData("q8", "x-y_z@sub-domain.example.org")]
    public void Every_recipient_decodes_to_exactly_what_was_encoded(string tag, string recipient)
    {
        var address = VerpAddress.Encode("bounces", tag, recipient, "bounce.client.test");

        // Always an ASCII dot-atom: no SMTPUTF8 needed, no quoting, no "..", no dot next to '@'.
        Assert.True(System.Text.Ascii.IsValid(address));
        var local = address[..address.LastIndexOf('@')];
        Assert.DoesNotContain("..", local);
        Assert.False(local.EndsWith('.'));
        foreach (var c in local)
        {
            Assert.True(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '=' or '.' or '_', $"'{c}' in {address}");
        }

        Assert.True(VerpAddress.TryDecode(address, "bounces", out var decodedTag, out var decodedRecipient));
        Assert.Equal(tag, decodedTag);
        Assert.Equal(recipient, decodedRecipient);
        Assert.True(VerpAddress.TryDecode("<" + address.ToUpperInvariant().Replace("BOUNCES+", "Bounces+", StringComparison.Ordinal) + ">", "bounces", out _, out _));
    }

    [Theory]
    [InlineData("news@client.test")]
    [InlineData("bounces@bounce.client.test")]
    [InlineData("bounces+q1@bounce.client.test")]
    [InlineData("bounces+q1-jane@bounce.client.test")]
    [InlineData("bounces+q1-jane=@bounce.client.test")]
    [InlineData("other+q1-jane=example.org@bounce.client.test")]
    [InlineData("bounces+q1-ja+Zne=example.org@bounce.client.test")]
    [InlineData("bounces+q1-ja+FFne=example.org@bounce.client.test")]
    [InlineData(null)]
    public void What_is_not_such_an_address_does_not_decode(string? address)
    {
        Assert.False(VerpAddress.TryDecode(address, "bounces", out var tag, out var recipient));
        Assert.Equal(string.Empty, tag);
        Assert.Equal(string.Empty, recipient);
    }

    [Fact]
    public void A_bounce_is_correlated_by_its_To_address()
    {
        var report = BounceParser.Parse(System.IO.File.ReadAllBytes(System.IO.Path.Combine(AppContext.BaseDirectory, "Dsn", "corpus", "exim.eml")));

        Assert.True(VerpAddress.TryDecode(report.To, "bounces", out var tag, out var recipient));
        Assert.Equal("q12", tag);
        Assert.Equal("ann@example.net", recipient);
    }

    [Theory]
    [InlineData("bad+prefix", "q", "a@b.example", "bounce.test")]
    [InlineData("bounces", "", "a@b.example", "bounce.test")]
    [InlineData("bounces", "q", "no-at-sign", "bounce.test")]
    [InlineData("bounces", "q", "a@b.example", "bounce test")]
    [InlineData(".bounces", "q", "a@b.example", "bounce.test")]
    public void A_value_that_cannot_make_an_address_is_refused(string prefix, string tag, string recipient, string domain)
    {
        Assert.ThrowsAny<ArgumentException>(() => VerpAddress.Encode(prefix, tag, recipient, domain));
    }

    [Fact]
    public void An_address_longer_than_a_path_allows_is_refused()
    {
        Assert.Throws<ArgumentException>(() => VerpAddress.Encode("bounces", new string('q', 230), "jane@example.org", "bounce.client.test"));
    }
}
