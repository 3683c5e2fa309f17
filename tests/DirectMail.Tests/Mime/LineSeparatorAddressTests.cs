using System;
using DirectMail.Mime;
using DirectMail.Smtp;

namespace DirectMail.Tests.Mime;

/// <summary>
/// U+2028 (line separator) and U+2029 (paragraph separator) end a line to some parsers, so they were refused in
/// subjects, display names and file names, but an address's local part took them (as UTF-8, RFC 6531) and they were
/// written into From/To and RCPT TO. Addresses now use the same set of refused characters as every other field.
/// </summary>
public class LineSeparatorAddressTests
{
    public static TheoryData<string> Addresses() => new()
    {
        "a\u2028b@example.com",
        "a\u2029b@example.com",
        "\"a\u2028b\"@example.com",
        "\"a\u2029\"@example.com",
        "\u2028@example.com",
        "用户\u2028@example.com",
        "a@exa\u2028mple.com",
    };

    [Theory]
    [MemberData(nameof(Addresses))]
    public void A_line_or_paragraph_separator_in_an_address_is_refused_before_anything_is_written(string address)
    {
        // Stops: a header line split in two by a recipient's parser (header injection into From/To/Cc) and the
        // separator reaching MAIL FROM / RCPT TO.
        var e = Assert.Throws<ArgumentException>(() => new EmailAddress(address));
        Assert.Equal("address", e.ParamName);
        Assert.Contains("line or paragraph separator U+202", e.Message, StringComparison.Ordinal);

        var message = new EmailMessage();
        Assert.Equal("address", Assert.Throws<ArgumentException>(() => message.To.Add(address)).ParamName);
        Assert.Equal("address", Assert.Throws<ArgumentException>(() => message.Cc.Add(address, "Name")).ParamName);
        Assert.Empty(message.To);
        Assert.Empty(message.Cc);
        Assert.Equal("text", Assert.Throws<ArgumentException>(() => EmailAddress.Parse("Name <" + address + ">")).ParamName);
        Assert.False(EmailAddress.TryParse(address, out _));

        Assert.Equal("recipients", Assert.Throws<ArgumentException>(() => new SmtpEnvelope("s@example.com", address)).ParamName);
        Assert.Equal("sender", Assert.Throws<ArgumentException>(() => new SmtpEnvelope(address, "r@example.com")).ParamName);
    }

    [Fact]
    public void Other_non_ASCII_local_parts_are_still_taken()
    {
        var address = new EmailAddress("用户\u00e9@example.com");
        Assert.True(address.RequiresSmtpUtf8);
        Assert.True(new SmtpEnvelope("s@example.com", "δοκιμή@example.com").RecipientNeedsSmtpUtf8(0));
    }
}
