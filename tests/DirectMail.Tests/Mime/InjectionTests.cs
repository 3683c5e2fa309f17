using System;
using System.Collections.Generic;
using System.IO;
using DirectMail.Mime;

namespace DirectMail.Tests.Mime;

/// <summary>
/// Every field a caller gives that ends up in a header or an SMTP command, tried with CR, LF, NUL and other control
/// characters. Each must be refused with an ArgumentException naming the field, before anything is written.
/// </summary>
public class InjectionTests
{
    /// <summary>
    /// The payloads: CRLF and lone CR or LF end a header line and start a new field (header injection: an added Bcc,
    /// a forged From) or end an SMTP command and start another (command injection: RCPT TO an attacker);
    /// NUL truncates values in C-based servers; TAB, ESC, DEL, NEL (U+0085) and the Unicode line separators are
    /// line breaks or controls to some parsers and terminals.
    /// </summary>
    public static IEnumerable<object[]> Payloads()
    {
        foreach (var payload in new[]
        {
            "\r\nBcc: victim@example.net",
            "\nRCPT TO:<attacker@example.net>",
            "\rX-Injected: yes",
            "\0truncated",
            "\tTab",
            "\u001b[31m",
            "\u007f",
            "\u0085next line",
            "\u2028line separator",
            "\u2029paragraph separator",
            "\u000b\u000c",
        })
        {
            yield return new object[] { payload };
        }
    }

    private static void AssertRefused(Action action, string field)
    {
        var exception = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(field, exception.ParamName);
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Subject_is_refused(string payload)
    {
        // Stops a subject from adding header fields (e.g. a hidden Bcc) to the message.
        AssertRefused(() => new EmailMessage { Subject = "Hello" + payload }, nameof(EmailMessage.Subject));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Display_names_are_refused(string payload)
    {
        // Stops a display name (often user-provided, "Your name") from forging headers in From, To, Cc, Reply-To, Sender.
        AssertRefused(() => new EmailAddress("a@example.com", "Name" + payload), "displayName");
        var message = new EmailMessage();
        AssertRefused(() => message.To.Add("a@example.com", "Name" + payload), "displayName");
        AssertRefused(() => message.Cc.Add("a@example.com", payload), "displayName");
        AssertRefused(() => message.Bcc.Add("a@example.com", payload), "displayName");
        AssertRefused(() => message.ReplyTo.Add("a@example.com", payload), "displayName");
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Addresses_are_refused(string payload)
    {
        // Stops an address from ending the RCPT TO / MAIL FROM command (SMTP command injection) or a header line.
        AssertRefused(() => new EmailAddress("a@example.com" + payload), "address");
        AssertRefused(() => new EmailAddress("a" + payload + "@example.com"), "address");
        var message = new EmailMessage();
        AssertRefused(() => message.To.Add("to@example.com" + payload), "address");
        AssertRefused(() => message.Cc.Add("cc" + payload + "@example.com"), "address");
        AssertRefused(() => message.Bcc.Add("bcc@example.com" + payload), "address");
        AssertRefused(() => message.ReplyTo.Add("reply@example.com" + payload), "address");
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Parsed_addresses_are_refused(string payload)
    {
        // Stops a mailbox string from a form or a database from carrying an injected header or command.
        AssertRefused(() => EmailAddress.Parse("Name <a@example.com>" + payload), "text");
        AssertRefused(() => EmailAddress.Parse("\"Name" + payload + "\" <a@example.com>"), "text");
        Assert.False(EmailAddress.TryParse("a@example.com" + payload, out _));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Custom_header_names_and_values_are_refused(string payload)
    {
        // Stops a custom header from adding other header fields, or ending the header section and forging the body.
        var message = new EmailMessage();
        AssertRefused(() => message.Headers.Add("X-Tag" + payload, "v"), "name");
        AssertRefused(() => message.Headers.Add("X-Tag", "v" + payload), "value");
        AssertRefused(() => new EmailHeader("X-Tag", payload + "v"), "value");
    }

    [Theory]
    [InlineData("X Tag")]
    [InlineData("X:Tag")]
    [InlineData("")]
    [InlineData("X-Täg")]
    [InlineData("Bcc")]
    [InlineData("bcc")]
    [InlineData("From")]
    [InlineData("Content-Type")]
    [InlineData("MIME-Version")]
    [InlineData("Message-ID")]
    public void Header_names_that_are_not_field_names_or_are_written_by_the_writer_are_refused(string name)
    {
        // Stops a custom header from smuggling a second From or Content-Type (which readers resolve differently),
        // or a Bcc that would reveal hidden recipients.
        AssertRefused(() => new EmailHeader(name, "v"), "name");
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void File_names_are_refused(string payload)
    {
        // Stops a file name (often the name of an uploaded file) from adding MIME header fields to its part.
        AssertRefused(() => Attachment.FromBytes(new byte[1], "report" + payload + ".pdf"), "fileName");
        AssertRefused(() => Attachment.FromStream(new MemoryStream(), "report.pdf" + payload), "fileName");
        AssertRefused(() => InlineResource.FromBytes(new byte[1], "a@b", "image/png", payload + "x.png"), "fileName");
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Content_types_content_ids_and_message_ids_are_refused(string payload)
    {
        // Stops the type, Content-ID and Message-ID from adding header fields to a part or the message.
        AssertRefused(() => Attachment.FromBytes(new byte[1], "a.bin", "application/pdf" + payload), "contentType");
        AssertRefused(() => InlineResource.FromBytes(new byte[1], "logo" + payload + "@example.com", "image/png"), "contentId");
        AssertRefused(() => new EmailMessage { MessageId = "id" + payload + "@example.com" }, nameof(EmailMessage.MessageId));
    }

    [Theory]
    [InlineData("id@example.com>\u0020<other")]
    [InlineData("<id@example.com>")]
    [InlineData("no-at-sign")]
    [InlineData("id@")]
    [InlineData("id with space@example.com")]
    public void Malformed_message_ids_are_refused(string id)
    {
        // Stops a Message-ID from closing its angle brackets and adding text the writer did not check.
        AssertRefused(() => new EmailMessage { MessageId = id }, nameof(EmailMessage.MessageId));
    }

    [Fact]
    public void Null_items_are_refused()
    {
        var message = new EmailMessage();
        Assert.Throws<ArgumentNullException>(() => message.To.Add((EmailAddress)null!));
        Assert.Throws<ArgumentNullException>(() => message.Headers.Add((EmailHeader)null!));
        message.To.Add("a@example.com");
        message.From = new EmailAddress("b@example.com");
        message.Attachments.Add(null!);
        Assert.Throws<ArgumentNullException>(() => message.ToSmtpContent());
    }
}
