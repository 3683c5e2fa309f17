using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Mime;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// Address literals (RFC 5321 section 4.1.3) are read by the grammar, not by <see cref="IPAddress.Parse(string)"/>:
/// that parser reads "0127" as octal (so <c>[0127.0.0.1]</c> connected to 87.0.0.1), accepts brackets, ports and zone
/// indexes inside <c>[IPv6:...]</c>, and accepts IPv6 forms the grammar does not have.
/// </summary>
public sealed class AddressLiteralTests
{
    private const int Port = 10225;

    [Theory]
    [InlineData("[0127.0.0.1]")]          // four digits: octal to IPAddress.Parse, 87.0.0.1
    [InlineData("[127.0.0.0256]")]
    [InlineData("[256.0.0.1]")]
    [InlineData("[1.2.3]")]               // three parts: 1.2.0.3 to inet_aton
    [InlineData("[127.1]")]
    [InlineData("[2130706433]")]          // one number: 127.0.0.1 to inet_aton
    [InlineData("[0x7f.0.0.1]")]
    [InlineData("[1.2.3.4.]")]
    [InlineData("[1..2.3]")]
    [InlineData("[ 1.2.3.4]")]
    [InlineData("[1.2.3.4:25]")]
    [InlineData("[]")]
    [InlineData("[IPv6:[::1]:25]")]      // brackets and a port inside the literal
    [InlineData("[IPv6:[::1]]")]
    [InlineData("[IPv6:::1%eth0]")]      // a zone index picks an interface of the sending host
    [InlineData("[IPv6:fe80::1%25eth0]")]
    [InlineData("[IPv6:1.2.3.4]")]        // an IPv4 address with the IPv6 tag
    [InlineData("[IPv6:]")]
    [InlineData("[IPv6::1]")]
    [InlineData("[IPv6:1::2::3]")]
    [InlineData("[IPv6:1:::2]")]
    [InlineData("[IPv6:1:2:3:4:5:6:7]")]  // seven groups without "::"
    [InlineData("[IPv6:1:2:3:4:5:6:7:8:9]")]
    [InlineData("[IPv6:1:2:3:4:5:6:7::]")] // "::" for one group: RFC 5321 wants at least two
    [InlineData("[IPv6:1::3:4:5:6:7:8]")]
    [InlineData("[IPv6:12345::1]")]
    [InlineData("[IPv6:1:2:3:4:5::1.2.3.4]")] // five groups with an IPv4 suffix and "::": at most four
    [InlineData("[IPv6:1:2:3:4:5:1.2.3.4]")]  // five groups and IPv4 without "::": six needed
    [InlineData("[IPv6:::ffff:0127.0.0.1]")]
    [InlineData("[IPv6:::1.2.3.4:5]")]
    [InlineData("[IPv6:1.2.3.4::]")]
    [InlineData("[IPv6:1:]")]
    [InlineData("[IPv6:g::1]")]
    [InlineData("[IPv6:+1::1]")]
    [InlineData("[x-tag:content]")]      // a General-address-literal: no tag but IPv6 is registered
    [InlineData("[IPv4:1.2.3.4]")]
    public void Literals_outside_the_RFC_5321_grammar_are_refused_before_anything_is_sent(string literal)
    {
        var address = "user@" + literal;
        var e = Assert.Throws<ArgumentException>(() => new SmtpEnvelope("sender@example.com", address));
        Assert.Equal("recipients", e.ParamName);
        Assert.Contains("address literal", e.Message, StringComparison.Ordinal);
        Assert.Equal("sender", Assert.Throws<ArgumentException>(() => new SmtpEnvelope(address, "x@example.com")).ParamName);
        Assert.Equal("address", Assert.Throws<ArgumentException>(() => new EmailAddress(address)).ParamName);
        Assert.Equal("HeloName", Assert.Throws<ArgumentException>(() => new SmtpSessionOptions { HeloName = literal }.Validate()).ParamName);

        // The resolver, where a literal becomes a connect target, refuses it too.
        var domain = MxDomain.Parse(literal);
        Assert.Null(domain.Name);
        Assert.Null(domain.Literal);
        Assert.Contains("address literal", domain.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[192.0.2.1]", "192.0.2.1", "[192.0.2.1]")]
    [InlineData("[0.0.0.0]", "0.0.0.0", "[0.0.0.0]")]
    [InlineData("[255.255.255.255]", "255.255.255.255", "[255.255.255.255]")]
    [InlineData("[027.0.0.1]", "27.0.0.1", "[27.0.0.1]")]           // Snum is decimal: never 23.0.0.1
    [InlineData("[127.000.000.010]", "127.0.0.10", "[127.0.0.10]")] // never 127.0.0.8
    [InlineData("[IPv6:2001:db8::1]", "2001:db8::1", "[IPv6:2001:db8::1]")]
    [InlineData("[ipv6:2001:DB8:0:0::1]", "2001:db8::1", "[IPv6:2001:db8::1]")]
    [InlineData("[IPv6:1:2:3:4:5:6:7:8]", "1:2:3:4:5:6:7:8", "[IPv6:1:2:3:4:5:6:7:8]")]
    [InlineData("[IPv6:::]", "::", "[IPv6:::]")]
    [InlineData("[IPv6:::1]", "::1", "[IPv6:::1]")]
    [InlineData("[IPv6:1::]", "1::", "[IPv6:1::]")]
    [InlineData("[IPv6:1:2:3:4:5:6::]", "1:2:3:4:5:6::", "[IPv6:1:2:3:4:5:6::]")]
    [InlineData("[IPv6:1:2:3::6:7:8]", "1:2:3::6:7:8", "[IPv6:1:2:3::6:7:8]")]
    [InlineData("[IPv6:1:2:3:4:5:6:192.0.2.1]", "1:2:3:4:5:6:c000:201", "[IPv6:1:2:3:4:5:6:c000:201]")]
    [InlineData("[IPv6:::ffff:192.0.2.1]", "::ffff:192.0.2.1", "[IPv6:::ffff:192.0.2.1]")]
    [InlineData("[IPv6:::ffff:192.0.2.010]", "::ffff:192.0.2.10", "[IPv6:::ffff:192.0.2.10]")]
    [InlineData("[IPv6:::192.0.2.1]", "::192.0.2.1", "[IPv6:::192.0.2.1]")]
    [InlineData("[IPv6:1:2:3::4:192.0.2.1]", "1:2:3::4:c000:201", "[IPv6:1:2:3::4:c000:201]")]
    public void Literals_of_the_grammar_are_read_as_decimal_and_go_on_the_wire_in_one_spelling(string literal, string expectedAddress, string wire)
    {
        var domain = MxDomain.Parse(literal);
        Assert.Null(domain.Error);
        Assert.Equal(IPAddress.Parse(expectedAddress), domain.Literal);
        if (domain.Literal!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            Assert.Equal(0, domain.Literal.ScopeId);
        }

        Assert.Equal(wire, domain.Name);

        // The same spelling in RCPT TO, MAIL FROM and the headers: no receiver can read a leading zero as octal.
        var envelope = new SmtpEnvelope("a@" + literal, "b@" + literal);
        Assert.Equal("a@" + wire, envelope.WireSender);
        Assert.Equal("b@" + wire, envelope.GetWireRecipient(0));
        Assert.Equal("b@" + literal, envelope.Recipients[0]);
        Assert.Equal("c@" + wire, new EmailAddress("c@" + literal).Address);
        new SmtpSessionOptions { HeloName = literal }.Validate();
    }

    [Fact]
    public void Spellings_of_one_literal_are_one_recipient()
    {
        var envelope = new SmtpEnvelope("s@example.com", "u@[IPv6:2001:db8::1]", "u@[IPv6:2001:DB8:0:0:0:0:0:1]", "u@[192.0.2.1]", "u@[192.000.002.001]");
        Assert.Equal(new[] { "u@[IPv6:2001:db8::1]", "u@[192.0.2.1]" }, envelope.Recipients);
    }

    [Fact]
    public void Names_of_digits_are_neither_a_domain_nor_an_address()
    {
        // "user@010.0.0.1" or "user@127.1" would be an IP address to inet_aton (8.0.0.1, 127.0.0.1), a name to DNS.
        foreach (var name in new[] { "010.0.0.1", "0127.0.0.1", "127.1", "2130706433", "999.1.1.1" })
        {
            var domain = MxDomain.Parse(name);
            Assert.Null(domain.Name);
            Assert.Contains("all digits", domain.Error, StringComparison.Ordinal);
            Assert.False(MxDomain.IsDottedQuad(name));
        }

        Assert.True(MxDomain.IsDottedQuad("192.0.2.1"));
        Assert.True(MxDomain.IsDottedQuad("10.0.0.0"));
        Assert.Contains("[192.0.2.1]", MxDomain.Parse("192.0.2.1").Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_literal_with_leading_zeros_is_delivered_to_the_decimal_address_and_written_without_them()
    {
        // Stops: "[127.0.29.010]" read as octal by IPAddress.Parse, connecting to 127.0.29.8 instead of 127.0.29.10
        // (the issue's "[0127.0.0.1]" went to 87.0.0.1), and the leading zero reaching the server in RCPT TO.
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(IPAddress.Parse("127.0.29.10"), Port));
        await using var octalTrap = ScriptedSmtpServer.Start(new SmtpDialogue().RunAsync, new IPEndPoint(IPAddress.Parse("127.0.29.8"), Port));
        await using var mailer = new DirectMailer(new DirectMailOptions
        {
            HeloName = "client.test.example",
            Port = Port,
            TlsMode = SmtpTlsMode.None,
            AllowPrivateTargets = true,
            NameServers = ["127.0.29.53"], // nothing listens: a literal needs no DNS
            Timeouts =
            {
                Connect = TimeSpan.FromSeconds(2),
                Greeting = TimeSpan.FromSeconds(2),
                Command = TimeSpan.FromSeconds(2),
            },
            MaxRetryAttempts = 0,
        });

        var report = await mailer.SendAsync(
            new SmtpEnvelope("me@client.test", "user@[127.0.29.010]"),
            SmtpContent.FromBytes("Subject: literal\r\n\r\nHello.\r\n"u8.ToArray()),
            CancellationToken.None);

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, recipient.Status);
        Assert.Equal("user@[127.0.29.010]", recipient.Address);
        Assert.Equal(IPAddress.Parse("127.0.29.10"), recipient.ServerAddress);
        Assert.Equal("[127.0.29.10]", recipient.MxHost);
        Assert.Equal(1, server.Accepted);
        Assert.Equal(0, octalTrap.Accepted);
        Assert.Contains("RCPT TO:<user@[127.0.29.10]>", dialogue.Commands);
        Assert.Single(dialogue.Messages);
    }
}
