using System;
using System.Net;
using DirectMail.Dns;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The resolver's domain rules at the boundaries Stryker.NET found untested (README, "Mutation testing"): dotted
/// quads with and without leading zeros, names of digits, literals in their one spelling, the 253-character limit and
/// the printable form of a refused input.
/// </summary>
public sealed class MxDomainMutationTests
{
    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("192.0.2.1", true)]
    [InlineData("10.20.30.40", true)]
    [InlineData("1.2.3.100", true)]
    [InlineData("010.0.0.1", false)]
    [InlineData("1.02.3.4", false)]
    [InlineData("1.2.3.04", false)]
    [InlineData("1.2.03.4", false)]
    [InlineData("1.2.3", false)]
    [InlineData("256.1.1.1", false)]
    [InlineData("a.b.c.d", false)]
    public void Only_four_decimal_numbers_without_leading_zeros_are_a_dotted_quad(string name, bool expected)
    {
        Assert.Equal(expected, MxDomain.IsDottedQuad(name));
    }

    [Fact]
    public void A_dotted_quad_is_refused_and_its_literal_named()
    {
        var domain = MxDomain.Parse("192.0.2.1");
        Assert.Null(domain.Name);
        Assert.Null(domain.Literal);
        Assert.Equal("'192.0.2.1' is an IP address, not a domain name; an address literal is written [192.0.2.1].", domain.Error);
    }

    [Theory]
    [InlineData("010.0.0.1")]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    [InlineData("1.2.3.4.5")]
    public void A_name_of_digits_and_dots_is_neither_a_name_nor_an_address(string input)
    {
        var domain = MxDomain.Parse(input);
        Assert.Null(domain.Name);
        Assert.Equal($"'{input}' is all digits: not a domain name, and not an address either; an IPv4 address literal is four decimal numbers in brackets, such as [192.0.2.1].", domain.Error);
    }

    [Theory]
    [InlineData("1.2.3.a", "1.2.3.a")]
    [InlineData("123.example", "123.example")]
    [InlineData("0x7f.example", "0x7f.example")]
    public void A_name_with_one_letter_is_a_name(string input, string expected)
    {
        var domain = MxDomain.Parse(input);
        Assert.Null(domain.Error);
        Assert.Equal(expected, domain.Name);
        Assert.Null(domain.Literal);
    }

    [Theory]
    [InlineData("[192.0.2.1]", "[192.0.2.1]", "192.0.2.1")]
    [InlineData("[192.000.002.001]", "[192.0.2.1]", "192.0.2.1")]
    [InlineData("[IPv6:2001:DB8:0:0::1]", "[IPv6:2001:db8::1]", "2001:db8::1")]
    public void A_literal_is_kept_in_its_one_spelling_with_its_address(string input, string name, string address)
    {
        var domain = MxDomain.Parse(input);
        Assert.Null(domain.Error);
        Assert.Equal(name, domain.Name);
        Assert.Equal(IPAddress.Parse(address), domain.Literal);
    }

    [Fact]
    public void A_refused_literal_gives_the_grammar_reason()
    {
        Assert.Equal(
            "'[1.2.3]' is not an address literal DirectMail can use: an IPv4 address literal is four decimal numbers from 0 to 255 of one to three digits, separated by dots (RFC 5321 section 4.1.3).",
            MxDomain.Parse("[1.2.3]").Error);
    }

    [Fact]
    public void A_name_of_253_characters_is_read_and_254_is_refused()
    {
        var name253 = new string('a', 63) + "." + new string('b', 63) + "." + new string('c', 63) + "." + new string('d', 61);
        Assert.Equal(253, name253.Length);
        Assert.Equal(name253, MxDomain.Parse(name253.ToUpperInvariant() + ".").Name);
        Assert.NotNull(MxDomain.Parse(name253 + "e").Error);
    }

    [Fact]
    public void An_internationalised_name_longer_than_253_in_A_labels_is_refused_with_the_limit()
    {
        // The Unicode form is short enough for IsAsciiDomain's own check only after conversion: the limit is checked
        // on the A-label form.
        var label = "ü" + new string('a', 50); // "xn--" + 51 + 2 or so octets per label
        var name = string.Join('.', label, label, label, label, label);
        var domain = MxDomain.Parse(name);
        Assert.Null(domain.Name);
        Assert.NotNull(domain.Error);
    }

    [Fact]
    public void A_valid_ASCII_name_with_upper_case_is_lower_cased_and_loses_its_root_dot()
    {
        var domain = MxDomain.Parse("MX-1.Example.ORG.");
        Assert.Equal("mx-1.example.org", domain.Name);
        Assert.Null(domain.Error);
        Assert.Null(domain.Literal);
    }

    [Fact]
    public void An_invalid_ASCII_name_is_refused_with_the_rule()
    {
        Assert.Equal(
            "'a_b.example' is not a domain name: letters, digits and hyphens in dot-separated labels of 1 to 63 characters, not starting or ending with a hyphen.",
            MxDomain.Parse("a_b.example").Error);
    }

    [Fact]
    public void Printable_escapes_controls_and_cuts_at_100_characters()
    {
        Assert.Equal("a\\u000d\\u000ab\\u007f", MxDomain.Printable("a\r\nb\u007f"));
        Assert.Equal("bücher", MxDomain.Printable("bücher"));
        var hundred = new string('x', 100);
        Assert.Equal(hundred, MxDomain.Printable(hundred));
        Assert.Equal(hundred + "…", MxDomain.Printable(hundred + "y"));
        Assert.Equal(string.Empty, MxDomain.Printable(string.Empty));
    }

    [Fact]
    public void A_refused_name_is_quoted_printably_in_the_error()
    {
        Assert.Equal(
            "'a\\u000ab' is not a domain name: letters, digits and hyphens in dot-separated labels of 1 to 63 characters, not starting or ending with a hyphen.",
            MxDomain.Parse("a\nb").Error);
    }
}
