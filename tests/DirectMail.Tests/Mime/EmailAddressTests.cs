using System;
using DirectMail.Mime;

namespace DirectMail.Tests.Mime;

public class EmailAddressTests
{
    [Theory]
    [InlineData("user@example.com", null, "user@example.com")]
    [InlineData("  user@example.com  ", null, "user@example.com")]
    [InlineData("<user@example.com>", null, "user@example.com")]
    [InlineData("John Smith <john.smith@example.com>", "John Smith", "john.smith@example.com")]
    [InlineData("\"Smith, John\" <john@example.com>", "Smith, John", "john@example.com")]
    [InlineData("\"Ali \\\"Boss\\\" <x>\" <ali@example.com>", "Ali \"Boss\" <x>", "ali@example.com")]
    [InlineData("张伟 <zhang@example.cn>", "张伟", "zhang@example.cn")]
    [InlineData("\"john doe\"@example.com", null, "\"john doe\"@example.com")]
    [InlineData("Quoted <\"a@b\"@example.com>", "Quoted", "\"a@b\"@example.com")]
    [InlineData("user@[192.0.2.1]", null, "user@[192.0.2.1]")]
    [InlineData("user@[IPv6:2001:db8::1]", null, "user@[IPv6:2001:db8::1]")]
    [InlineData("user@bücher.example", null, "user@xn--bcher-kva.example")]
    [InlineData("用户@例子.example", null, "用户@xn--fsqu00a.example")]
    [InlineData("first.last+tag@sub.example.co.uk", null, "first.last+tag@sub.example.co.uk")]
    public void Mailboxes_are_parsed(string text, string? name, string address)
    {
        var parsed = EmailAddress.Parse(text);
        Assert.Equal(name, parsed.DisplayName);
        Assert.Equal(address, parsed.Address);
        Assert.True(EmailAddress.TryParse(text, out var tried));
        Assert.Equal(parsed, tried);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("no-at-sign")]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("user@@example.com")]
    [InlineData("two words@example.com")]
    [InlineData("user.@example.com")]
    [InlineData("a..b@example.com")]
    [InlineData("user@exa mple.com")]
    [InlineData("user@-example.com")]
    [InlineData("user@[300.1.1.1]")]
    [InlineData("Name <user@example.com")]
    [InlineData("Name user@example.com>")]
    [InlineData("Name <user@example.com> trailing")]
    [InlineData("\"unterminated <user@example.com>")]
    [InlineData("\"unterminated\"@example.com@")]
    public void Malformed_mailboxes_are_refused(string text)
    {
        Assert.ThrowsAny<ArgumentException>(() => EmailAddress.Parse(text));
        Assert.False(EmailAddress.TryParse(text, out var address));
        Assert.Null(address);
    }

    [Fact]
    public void A_local_part_over_64_octets_is_refused()
    {
        Assert.ThrowsAny<ArgumentException>(() => new EmailAddress(new string('a', 65) + "@example.com"));
        Assert.ThrowsAny<ArgumentException>(() => new EmailAddress(new string('é', 33) + "@example.com"));
    }

    [Fact]
    public void Parts_utf8_need_and_equality()
    {
        var address = new EmailAddress("Ünsal@Bücher.Example", "Ünsal");
        Assert.Equal("Ünsal", address.LocalPart);
        Assert.Equal("xn--bcher-kva.example", address.Domain, ignoreCase: true);
        Assert.True(address.RequiresSmtpUtf8);
        Assert.False(new EmailAddress("a@bücher.example").RequiresSmtpUtf8);
        Assert.Equal(new EmailAddress("a@EXAMPLE.com", "N"), new EmailAddress("a@example.COM", "N"));
        Assert.NotEqual(new EmailAddress("A@example.com"), new EmailAddress("a@example.com"));
        Assert.Equal(new EmailAddress("a@EXAMPLE.com").GetHashCode(), new EmailAddress("a@example.com").GetHashCode());
        Assert.Equal("\"Say \\\"hi\\\"\" <a@example.com>", new EmailAddress("a@example.com", "Say \"hi\"").ToString());
        Assert.Equal("a@example.com", new EmailAddress("a@example.com", "").ToString());
        Assert.False(EmailAddress.TryParse(null, out _));
    }
}
