using System;
using System.Net;
using DirectMail.Smtp;

namespace DirectMail.Tests.Mutation;

/// <summary>
/// The command grammar (EHLO name, MAIL and RCPT mailboxes, address literals) at the boundaries Stryker.NET found
/// untested (README, "Mutation testing"): each length limit one below, at and above, each character class at its
/// edges, and the exact outcome (wire form, exception text) of every branch.
/// </summary>
public sealed class SmtpSyntaxMutationTests
{
    private static string Wire(string mailbox, bool allowEmpty = false) =>
        SmtpSyntax.NormalizeMailbox(mailbox, "p", allowEmpty, out _);

    private static string Refusal(string? mailbox, bool allowEmpty = false) =>
        Assert.Throws<ArgumentException>(() => SmtpSyntax.NormalizeMailbox(mailbox!, "p", allowEmpty, out _)).Message;

    private static string Label(int length, char c = 'a') => new(c, length);

    [Fact]
    public void A_null_mailbox_is_an_ArgumentNullException_naming_the_argument()
    {
        Assert.Equal("p", Assert.Throws<ArgumentNullException>(() => SmtpSyntax.NormalizeMailbox(null, "p", true, out _)).ParamName);
    }

    [Fact]
    public void An_empty_mailbox_is_the_null_reverse_path_only_where_allowed()
    {
        // Stops: "<>" accepted as a recipient, or refused as the bounce sender.
        Assert.Equal(string.Empty, SmtpSyntax.NormalizeMailbox(string.Empty, "p", allowEmpty: true, out var utf8));
        Assert.False(utf8);
        Assert.Equal("A recipient address is empty. (Parameter 'p')", Refusal(string.Empty));
    }

    [Theory]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("user")]
    public void A_mailbox_without_local_part_at_sign_or_domain_is_refused(string mailbox)
    {
        Assert.Equal($"'{mailbox}' is not an address: it needs a local part, '@' and a domain. (Parameter 'p')", Refusal(mailbox));
    }

    [Fact]
    public void The_last_at_sign_splits_a_quoted_local_part_from_the_domain()
    {
        Assert.Equal("\"a@b\"@example.com", Wire("\"a@b\"@example.com"));
        Assert.Equal("a@b", Wire("a@b"));
    }

    [Fact]
    public void An_ASCII_mailbox_is_returned_as_the_same_string_and_needs_no_SMTPUTF8()
    {
        // Stops: a copy made for every address on the hot path, or SMTPUTF8 asked for an ASCII address.
        var mailbox = "user.name+tag@Example.COM";
        Assert.Same(mailbox, SmtpSyntax.NormalizeMailbox(mailbox, "p", false, out var utf8));
        Assert.False(utf8);
    }

    [Fact]
    public void A_Unicode_local_part_needs_SMTPUTF8_and_a_Unicode_domain_does_not()
    {
        Assert.Equal("jörg@example.com", SmtpSyntax.NormalizeMailbox("jörg@example.com", "p", false, out var utf8));
        Assert.True(utf8);
        Assert.Equal("user@xn--bcher-kva.example", SmtpSyntax.NormalizeMailbox("user@bücher.example", "p", false, out utf8));
        Assert.False(utf8);
    }

    [Fact]
    public void The_root_dot_is_removed_from_the_domain()
    {
        Assert.Equal("user@example.com", Wire("user@example.com."));
        Assert.Equal("user@xn--bcher-kva.example", Wire("user@bücher.example."));
    }

    [Fact]
    public void A_literal_goes_in_its_one_spelling_and_an_already_canonical_one_unchanged()
    {
        var canonical = "user@[192.0.2.1]";
        Assert.Same(canonical, Wire(canonical));
        Assert.Equal("user@[192.0.2.1]", Wire("user@[192.000.002.001]"));
        Assert.Equal("user@[IPv6:2001:db8::1]", Wire("user@[ipv6:2001:DB8:0::1]"));
        Assert.Equal(
            "'user@[1.2.3]' has an invalid address literal: an IPv4 address literal is four decimal numbers from 0 to 255 of one to three digits, separated by dots (RFC 5321 section 4.1.3). (Parameter 'p')",
            Refusal("user@[1.2.3]"));
    }

    [Theory]
    [InlineData("user@-example.com")]
    [InlineData("user@example-.com")]
    [InlineData("user@exa_mple.com")]
    [InlineData("user@example..com")]
    public void An_invalid_ASCII_domain_is_refused(string mailbox)
    {
        Assert.Equal($"'{mailbox}' has an invalid domain: letters, digits and hyphens in dot-separated labels. (Parameter 'p')", Refusal(mailbox));
    }

    [Fact]
    public void An_invalid_internationalised_domain_is_refused_with_the_IDN_reason()
    {
        var message = Refusal("user@bü_cher.example");
        Assert.StartsWith("'user@bü_cher.example' has an invalid internationalised domain: ", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_local_part_of_64_octets_passes_and_65_is_refused()
    {
        // Stops: "> 64" turned into ">=" or the limit counted in characters instead of UTF-8 octets.
        Assert.Equal(Label(64) + "@example.com", Wire(Label(64) + "@example.com"));
        Assert.Equal($"'{Label(65)}@example.com' has a local part over 64 octets (RFC 5321 section 4.5.3.1.1). (Parameter 'p')", Refusal(Label(65) + "@example.com"));

        // 32 two-octet characters are 64 octets; 33 are 66 though only 33 characters.
        Assert.Equal(Label(32, 'ö') + "@example.com", Wire(Label(32, 'ö') + "@example.com"));
        Assert.Contains("local part over 64 octets", Refusal(Label(33, 'ö') + "@example.com"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_of_256_octets_with_its_brackets_passes_and_257_is_refused()
    {
        // 1 + 1 + 252 + 2 = 256: local "a", "@", a 252-octet domain, "<>".
        var domain252 = Label(63) + "." + Label(63) + "." + Label(63) + "." + Label(60);
        Assert.Equal(252, domain252.Length);
        Assert.Equal("a@" + domain252, Wire("a@" + domain252));
        Assert.Equal(
            $"'ab@{domain252}' is longer than a path may be (256 octets with its angle brackets, RFC 5321 section 4.5.3.1.3). (Parameter 'p')",
            Refusal("ab@" + domain252));

        // With a two-octet character the path counts octets, not characters.
        Assert.Contains("longer than a path may be", Refusal("ö@" + domain252), StringComparison.Ordinal);
    }

    [Fact]
    public void A_domain_over_253_characters_is_an_invalid_domain()
    {
        var domain254 = Label(63) + "." + Label(63) + "." + Label(63) + "." + Label(63);
        Assert.Equal(255, domain254.Length);
        Assert.Contains("has an invalid domain", Refusal("a@" + domain254), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"\"@example.com")]
    [InlineData("\"a b\"@example.com")]
    [InlineData("\"a\\\"b\"@example.com")]
    [InlineData("\"a\\\\\"@example.com")]
    [InlineData("\"a\\ b\"@example.com")]
    [InlineData("\"a\\~\"@example.com")]
    public void Quoted_local_parts_of_the_grammar_pass_unchanged(string mailbox)
    {
        Assert.Equal(mailbox, Wire(mailbox));
    }

    [Theory]
    [InlineData("\"@example.com", "has an unterminated quoted local part.")]
    [InlineData("\"abc@example.com", "has an unterminated quoted local part.")]
    [InlineData("\"a\\\"@example.com", "has an invalid escape in its quoted local part.")]
    [InlineData("\"a\"b\"@example.com", "has an unescaped quote in its local part.")]
    public void Broken_quoted_local_parts_are_refused_with_the_reason(string mailbox, string reason)
    {
        Assert.Equal($"'{mailbox}' {reason} (Parameter 'p')", Refusal(mailbox));
    }

    [Fact]
    public void An_escaped_DEL_in_a_quoted_local_part_is_refused()
    {
        // DEL never reaches the escape check (the control check refuses it first); the exact message says which check.
        Assert.Contains("control character U+007F", Refusal("\"a\\\u007f\"@example.com"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".a@example.com", "has an empty part between dots in its local part; quote it if that is really the address.")]
    [InlineData("a..b@example.com", "has an empty part between dots in its local part; quote it if that is really the address.")]
    [InlineData("a.@example.com", "ends its local part with a dot.")]
    [InlineData("a b@example.com", "has ' ' in its local part, which needs quoting.")]
    [InlineData("a(b@example.com", "has '(' in its local part, which needs quoting.")]
    [InlineData("a\"b@example.com", "has '\"' in its local part, which needs quoting.")]
    [InlineData("a[b@example.com", "has '[' in its local part, which needs quoting.")]
    [InlineData("a@b@example.com", "has '@' in its local part, which needs quoting.")]
    public void Broken_dot_strings_are_refused_with_the_reason(string mailbox, string reason)
    {
        Assert.Equal($"'{mailbox}' {reason} (Parameter 'p')", Refusal(mailbox));
    }

    [Fact]
    public void Every_atext_character_passes_in_a_dot_string()
    {
        // Stops: a character dropped from (or added to) the atext set of RFC 5322 section 3.2.3.
        const string atext = "azAZ09!#$%&'*+-/=?^_`{|}~";
        foreach (var c in atext)
        {
            var mailbox = $"x{c}x.{c}@example.com";
            Assert.Equal(mailbox, Wire(mailbox));
        }

        foreach (var c in "\"(),:;<>@[\\]")
        {
            Assert.Contains("which needs quoting", Refusal($"x{c}x@example.com"), StringComparison.Ordinal);
        }

        // Just outside the letter and digit ranges.
        foreach (var c in "@[`{/:")
        {
            var isAtext = atext.Contains(c, StringComparison.Ordinal);
            var mailbox = $"x{c}x@example.com";
            if (isAtext)
            {
                Assert.Equal(mailbox, Wire(mailbox));
            }
            else
            {
                Assert.Contains("which needs quoting", Refusal(mailbox), StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("a.", true)]
    [InlineData("a-b.c-d", true)]
    [InlineData("0.9", true)]
    [InlineData("A.Z", true)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData(".a", false)]
    [InlineData("a..b", false)]
    [InlineData("-a", false)]
    [InlineData("a-", false)]
    [InlineData("a-.b", false)]
    [InlineData("a.-b", false)]
    [InlineData("a.b-", false)]
    [InlineData("a_b", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("a:b", false)]
    [InlineData("a@b", false)]
    [InlineData("a[b", false)]
    [InlineData("a`b", false)]
    [InlineData("a{b", false)]
    [InlineData("example..", false)] // an empty last label once the root dot is taken off
    public void IsAsciiDomain_takes_LDH_labels_only(string domain, bool expected)
    {
        Assert.Equal(expected, SmtpSyntax.IsAsciiDomain(domain));
    }

    [Fact]
    public void Labels_of_63_octets_pass_and_64_fail_and_a_name_of_253_passes_and_254_fails()
    {
        Assert.True(SmtpSyntax.IsAsciiDomain(Label(63) + ".com"));
        Assert.False(SmtpSyntax.IsAsciiDomain(Label(64) + ".com"));
        Assert.False(SmtpSyntax.IsAsciiDomain("com." + Label(64)));

        var name253 = Label(63) + "." + Label(63) + "." + Label(63) + "." + Label(61);
        Assert.Equal(253, name253.Length);
        Assert.True(SmtpSyntax.IsAsciiDomain(name253));
        Assert.True(SmtpSyntax.IsAsciiDomain(name253 + "."));
        Assert.False(SmtpSyntax.IsAsciiDomain(name253 + "a"));
        Assert.False(SmtpSyntax.IsAsciiDomain(name253 + "a."));
    }

    [Theory]
    [InlineData("mail.example.com")]
    [InlineData("localhost")]
    [InlineData("[192.0.2.1]")]
    [InlineData("[IPv6:2001:db8::1]")]
    public void EHLO_names_of_the_grammar_pass(string name)
    {
        SmtpSyntax.ValidateHeloName(name, "p");
        Assert.Null(SmtpSessionOptions.HeloNameError(name));
    }

    [Theory]
    [InlineData(null, "The EHLO name is required: the host's fully qualified domain name or an address literal such as [192.0.2.1].")]
    [InlineData("", "The EHLO name is required: the host's fully qualified domain name or an address literal such as [192.0.2.1].")]
    [InlineData("[192.0.2]", "The EHLO name '[192.0.2]' is not a valid address literal ([192.0.2.1] or [IPv6:2001:db8::1]).")]
    [InlineData("[mail.example.com]", "The EHLO name '[mail.example.com]' is not a valid address literal ([192.0.2.1] or [IPv6:2001:db8::1]).")]
    [InlineData("mail_1.example.com", "The EHLO name 'mail_1.example.com' is not a domain name: letters, digits and hyphens in dot-separated labels of at most 63 characters, not starting or ending with a hyphen.")]
    [InlineData("mail example", "The EHLO name 'mail example' is not a domain name: letters, digits and hyphens in dot-separated labels of at most 63 characters, not starting or ending with a hyphen.")]
    public void EHLO_names_outside_the_grammar_are_refused_with_the_reason(string? name, string message)
    {
        var exception = Assert.Throws<ArgumentException>(() => SmtpSyntax.ValidateHeloName(name, "p"));
        Assert.Equal(message + " (Parameter 'p')", exception.Message);
    }

    [Theory]
    [InlineData("mail.example.com\r\nRSET", 16, "control character U+000D")]
    [InlineData("mail\u0085example", 4, "control character U+0085")]
    [InlineData("mail\u2028example", 4, "line or paragraph separator U+2028")]
    [InlineData("mail\u2029", 4, "line or paragraph separator U+2029")]
    [InlineData("\u007f", 0, "control character U+007F")]
    [InlineData("\u009f", 0, "control character U+009F")]
    [InlineData("a\u0000", 1, "control character U+0000")]
    [InlineData("a\t", 1, "control character U+0009")]
    [InlineData("ab\u0010", 2, "control character U+0010")] // the 0x10-0x1F row survived a mutant: nothing tested it
    [InlineData("a\u001b[31m", 1, "control character U+001B")]
    [InlineData("\u001f", 0, "control character U+001F")]
    public void Control_characters_and_line_separators_are_refused_with_their_position(string value, int position, string what)
    {
        // Stops: CR/LF (or NEL, U+2028) injection through any value that goes into a command.
        var exception = Assert.Throws<ArgumentException>(() => SmtpSyntax.ThrowOnControl(value, "p", "thing"));
        Assert.Equal(
            $"The thing contains the {what} at position {position}; CR, LF, other controls and line separators are refused because they could end the SMTP command and inject another. (Parameter 'p')",
            exception.Message);
    }

    [Theory]
    [InlineData("a\u00a0b")]
    [InlineData("\u2027\u202a")]
    [InlineData(" ~")]
    public void Characters_next_to_the_control_ranges_pass(string value)
    {
        SmtpSyntax.ThrowOnControl(value, "p", "thing");
    }

    [Fact]
    public void A_control_character_in_a_mailbox_is_refused_before_its_syntax_is_read()
    {
        Assert.StartsWith("The address contains the control character U+000A at position 4;", Refusal("user\n@example.com"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[x-tag:content]", "the tag 'x-tag' is not one mail can be delivered to: IPv6 is the only registered address literal tag (RFC 5321 section 4.1.3).")]
    [InlineData("[IPv4:1.2.3.4]", "the tag 'IPv4' is not one mail can be delivered to: IPv6 is the only registered address literal tag (RFC 5321 section 4.1.3).")]
    [InlineData("[1.2.3.4:25]", "an address literal is [192.0.2.1] or [IPv6:2001:db8::1], without a port (RFC 5321 section 4.1.3).")]
    [InlineData("[tag-:x]", "an address literal is [192.0.2.1] or [IPv6:2001:db8::1], without a port (RFC 5321 section 4.1.3).")]
    [InlineData("[:x]", "an address literal is [192.0.2.1] or [IPv6:2001:db8::1], without a port (RFC 5321 section 4.1.3).")]
    [InlineData("[a_b:x]", "an address literal is [192.0.2.1] or [IPv6:2001:db8::1], without a port (RFC 5321 section 4.1.3).")]
    [InlineData("[.]", "an IPv4 address literal is four decimal numbers from 0 to 255 of one to three digits, separated by dots (RFC 5321 section 4.1.3).")]
    [InlineData("[]", "an address literal is written in brackets: [192.0.2.1] or [IPv6:2001:db8::1].")]
    [InlineData("[", "an address literal is written in brackets: [192.0.2.1] or [IPv6:2001:db8::1].")]
    [InlineData("1.2.3.4]", "an address literal is written in brackets: [192.0.2.1] or [IPv6:2001:db8::1].")]
    [InlineData("[1.2.3.4", "an address literal is written in brackets: [192.0.2.1] or [IPv6:2001:db8::1].")]
    [InlineData("[IPv6:1::2::3]", "an IPv6 address literal is [IPv6:] and an address in the full, '::'-compressed or IPv4-suffixed form of RFC 5321 section 4.1.3, without zone, port or brackets.")]
    public void Refused_literals_say_why(string literal, string error)
    {
        Assert.False(SmtpSyntax.TryParseAddressLiteral(literal, out var address, out var reason));
        Assert.Null(address);
        Assert.Equal(error, reason);
    }

    [Theory]
    [InlineData("[1.2.3.4]", "1.2.3.4")]
    [InlineData("[IPv6:a-b:x]", null)]
    [InlineData("[Z9-a:x]", null)]
    public void Tags_of_letters_digits_and_inner_hyphens_are_read_as_tags(string literal, string? address)
    {
        var ok = SmtpSyntax.TryParseAddressLiteral(literal, out var parsed, out var error);
        Assert.Equal(address is not null, ok);
        if (address is not null)
        {
            Assert.Equal(IPAddress.Parse(address), parsed);
            Assert.Null(error);
        }
        else
        {
            Assert.Null(parsed);
            Assert.NotNull(error);
        }
    }

    [Fact]
    public void A_literal_with_another_tag_names_the_tag_when_it_is_an_LDH_string()
    {
        Assert.False(SmtpSyntax.TryParseAddressLiteral("[Z9-a:x]", out _, out var error));
        Assert.StartsWith("the tag 'Z9-a' is not one", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", new byte[] { 0, 0, 0, 0 })]
    [InlineData("255.255.255.255", new byte[] { 255, 255, 255, 255 })]
    [InlineData("1.22.199.9", new byte[] { 1, 22, 199, 9 })]
    [InlineData("009.010.099.100", new byte[] { 9, 10, 99, 100 })]
    public void IPv4_numbers_are_read_in_decimal(string text, byte[] expected)
    {
        var octets = new byte[4];
        Assert.True(SmtpSyntax.TryParseIPv4(text, octets));
        Assert.Equal(expected, octets);
    }

    [Theory]
    [InlineData("256.0.0.0")]
    [InlineData("0.0.0.256")]
    [InlineData("1.2.3.1000")]
    [InlineData("0001.2.3.4")]
    [InlineData("1.2.3.")]
    [InlineData(".1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.a")]
    [InlineData("1.2.3./")]
    [InlineData("1.2.3.:")]
    [InlineData("")]
    public void IPv4_text_outside_the_grammar_is_refused(string text)
    {
        Assert.False(SmtpSyntax.TryParseIPv4(text, new byte[4]));
    }

    [Theory]
    [InlineData("[IPv6:1:2:3:4:5:6:7:8]", "1:2:3:4:5:6:7:8")]
    [InlineData("[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("[IPv6:1234:5678:9abc:def0:1234:5678:9abc:def0]", "1234:5678:9abc:def0:1234:5678:9abc:def0")]
    [InlineData("[IPv6:1::8]", "1::8")]
    [InlineData("[IPv6:1:2::7:8]", "1:2::7:8")]
    [InlineData("[IPv6:1:2:3:4:5:6:1.2.3.4]", "1:2:3:4:5:6:102:304")]
    [InlineData("[IPv6:1:2:3:4::1.2.3.4]", "1:2:3:4::102:304")]
    [InlineData("[IPv6:::1:2:3:4:5:6]", "::1:2:3:4:5:6")]
    [InlineData("[IPv6:1:2:3:4:5:6::]", "1:2:3:4:5:6::")]
    [InlineData("[IPv6:::1.2.3.4]", "::102:304")]
    [InlineData("[IPv6:1::1.2.3.4]", "1::102:304")]
    [InlineData("[IPv6:abcd::ef01:1.2.3.4]", "abcd::ef01:102:304")]
    public void IPv6_literals_are_built_group_by_group(string literal, string expected)
    {
        Assert.True(SmtpSyntax.TryParseAddressLiteral(literal, out var address, out var error));
        Assert.Null(error);
        Assert.Equal(IPAddress.Parse(expected), address);
    }

    [Theory]
    [InlineData("[IPv6:1:2:3:4:5:6:7::8]")]      // nine groups with "::"
    [InlineData("[IPv6:::1:2:3:4:5:6:7]")]       // seven groups with "::"
    [InlineData("[IPv6:1:2:3:4:5::6:7]")]        // seven groups with "::"
    [InlineData("[IPv6:1:2:3:4:5::1.2.3.4]")]    // five groups, "::" and IPv4
    [InlineData("[IPv6:1:2:3:4:5:6:7:1.2.3.4]")] // seven groups and IPv4
    [InlineData("[IPv6:1:2:3:4:5:1.2.3.4]")]     // five groups and IPv4 without "::"
    [InlineData("[IPv6:1:2:3:4:5:6:7:8:9]")]
    [InlineData("[IPv6:1:2:3:4:5:6:7]")]
    [InlineData("[IPv6:1:2:3:4:5:6:7:]")]
    [InlineData("[IPv6:1::2:]")]
    [InlineData("[IPv6::1:2:3:4:5:6:7]")]
    [InlineData("[IPv6:12345::]")]
    [InlineData("[IPv6:01234::1]")]              // five hex digits, although the value fits 16 bits
    [InlineData("[IPv6:::1:2:3:4:5:6:7:8:9]")]   // "::" then nine groups: refused, not an index past the eight
    [InlineData("[IPv6:1.2.3.4:1::]")]
    [InlineData("[IPv6:::1.2.3]")]
    [InlineData("[IPv6:::1.2.3.4.5]")]
    [InlineData("[IPv6:1:::]")]
    [InlineData("[IPv6:::::]")]
    public void IPv6_literals_outside_the_grammar_are_refused(string literal)
    {
        Assert.False(SmtpSyntax.TryParseAddressLiteral(literal, out var address, out _));
        Assert.Null(address);
    }

    [Fact]
    public void Address_literals_are_formatted_with_and_without_the_tag()
    {
        Assert.Equal("[192.0.2.1]", SmtpSyntax.FormatAddressLiteral(IPAddress.Parse("192.0.2.1")));
        Assert.Equal("[IPv6:2001:db8::1]", SmtpSyntax.FormatAddressLiteral(IPAddress.Parse("2001:DB8::1")));
        Assert.Equal("[IPv6:::ffff:192.0.2.1]", SmtpSyntax.FormatAddressLiteral(IPAddress.Parse("::ffff:192.0.2.1")));
        Assert.True(SmtpSyntax.IsAddressLiteral("[IPv6:::1]"));
        Assert.False(SmtpSyntax.IsAddressLiteral("[IPv6:::1"));
    }

    [Theory]
    [InlineData("[zA0:x]", "zA0")]
    [InlineData("[a-z:x]", "a-z")]
    [InlineData("[A9-0:x]", "A9-0")]
    public void Tags_with_the_letters_and_digits_at_the_ends_of_their_ranges_are_LDH_strings(string literal, string tag)
    {
        // Stops: an off-by-one at 'z', 'A' or '0' in the Ldh-str check, which would give the generic refusal.
        Assert.False(SmtpSyntax.TryParseAddressLiteral(literal, out _, out var error));
        Assert.StartsWith($"the tag '{tag}' is not one", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_control_character_in_an_EHLO_name_is_refused_as_a_control_of_the_EHLO_name()
    {
        // Stops: the control check dropped from the EHLO name, where only the domain rule would then refuse CR LF (with
        // a message that does not say an injection was stopped).
        var exception = Assert.Throws<ArgumentException>(() => SmtpSyntax.ValidateHeloName("mail\r\nRSET.example.com", "p"));
        Assert.StartsWith("The EHLO name contains the control character U+000D at position 4;", exception.Message, StringComparison.Ordinal);
    }
}
