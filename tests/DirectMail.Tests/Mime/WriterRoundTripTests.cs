using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using DirectMail.Mime;
using DirectMail.Smtp;
using MimeKit;
using MimeKit.Text;
using static DirectMail.Tests.Mime.MimeTestSupport;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Mime;

/// <summary>Every message the writer produces is read back by MimeKit and compared field by field.</summary>
public class WriterRoundTripTests
{
    public static IEnumerable<object[]> Scripts()
    {
        var samples = new (string Language, string Name, string Subject, string Text)[]
        {
            ("Malay", "Siti Nurhaliza binti Tarudin", "Mesyuarat agung tahunan: sila sahkan kehadiran anda sebelum hari Jumaat ini", "Assalamualaikum,\r\nSila lihat lampiran untuk agenda mesyuarat.\r\nTerima kasih."),
            ("Chinese", "张伟", "关于下周项目评审会议的安排以及需要提前准备的材料清单，请各位同事务必在周五之前确认", "你好，\n附件是会议议程。\n谢谢！"),
            ("Arabic", "محمد بن عبد الله", "اجتماع الفريق الأسبوعي: جدول الأعمال والمواضيع المطروحة للنقاش يوم الخميس القادم", "مرحبا،\nيرجى الاطلاع على جدول الأعمال المرفق.\nشكرا لكم."),
            ("Hindi", "अनीता शर्मा", "साप्ताहिक टीम बैठक: कृपया गुरुवार से पहले अपनी उपस्थिति की पुष्टि करें और एजेंडा देखें", "नमस्ते,\nकृपया संलग्न एजेंडा देखें।\nधन्यवाद।"),
            ("Emoji", "🎉 Party Bot 🤖", "🎂 Happy birthday! 🎈🎁 Family emoji: 👨‍👩‍👧‍👦 flags: 🇲🇾🇮🇳 and a long tail to fold 🚀🚀🚀🚀🚀", "Cake 🍰 at 3pm 🕒\nSee you 👋"),
            ("Mixed", "Ali \"The Boss\" O'Neil, Jr.", "Re: [Ticket #42] Payment of RM 1,234.50 — état: reçu ✓ (Ref=?utf-8?x?)", "Hello \"quoted\" = equals; trailing space \nTab\there."),
        };

        foreach (var sample in samples)
        {
            yield return new object[] { sample.Language, sample.Name, sample.Subject, sample.Text, true };
            yield return new object[] { sample.Language, sample.Name, sample.Subject, sample.Text, false };
        }
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Subjects_names_and_bodies_in_many_scripts_read_back_equal(string language, string name, string subject, string text, bool eightBitMime)
    {
        _ = language;
        var message = new EmailMessage
        {
            From = new EmailAddress("sender@example.com", name),
            Subject = subject,
            TextBody = text,
            HtmlBody = "<html><body><p>" + text.Replace("\n", "<br>\n", StringComparison.Ordinal) + "</p></body></html>",
        };
        message.To.Add("first@example.com", name);
        message.To.Add("second@example.org", "Plain Name");
        message.Cc.Add("copy@example.net", name + " (copy)");
        message.ReplyTo.Add("replies@example.com", name);

        var parsed = RoundTrip(message, Capabilities(eightBitMime));

        Assert.Equal(subject, parsed.Subject);
        var from = Assert.Single(parsed.From.Mailboxes);
        Assert.Equal(name, from.Name);
        Assert.Equal("sender@example.com", from.Address);
        Assert.Equal(new[] { name, "Plain Name" }, parsed.To.Mailboxes.Select(m => m.Name));
        Assert.Equal(new[] { "first@example.com", "second@example.org" }, parsed.To.Mailboxes.Select(m => m.Address));
        Assert.Equal(name + " (copy)", parsed.Cc.Mailboxes.Single().Name);
        Assert.Equal(name, parsed.ReplyTo.Mailboxes.Single().Name);
        Assert.Equal(Normalize(text), Normalize(parsed.TextBody));
        Assert.Equal(Normalize(message.HtmlBody), Normalize(parsed.HtmlBody));
        Assert.IsType<MultipartAlternative>(parsed.Body);
    }

    [Theory]
    [MemberData(nameof(BothCapabilities), MemberType = typeof(MimeTestSupport))]
    public void Text_only_is_a_single_text_plain_part(bool eightBitMime)
    {
        var message = NewMessage();
        message.TextBody = "Only text, with ümlauts.";
        var parsed = RoundTrip(message, Capabilities(eightBitMime));
        var part = Assert.IsType<TextPart>(parsed.Body);
        Assert.True(part.IsPlain);
        AssertSinglePartText("Only text, with ümlauts.", part.Text);
        Assert.Equal(eightBitMime ? ContentEncoding.EightBit : ContentEncoding.QuotedPrintable, part.ContentTransferEncoding);
    }

    [Theory]
    [MemberData(nameof(BothCapabilities), MemberType = typeof(MimeTestSupport))]
    public void Html_only_is_a_single_text_html_part(bool eightBitMime)
    {
        var message = NewMessage();
        message.HtmlBody = "<p>Only HTML</p>";
        var parsed = RoundTrip(message, Capabilities(eightBitMime));
        var part = Assert.IsType<TextPart>(parsed.Body);
        Assert.True(part.IsHtml);
        AssertSinglePartText("<p>Only HTML</p>", part.Text);
        Assert.Equal(ContentEncoding.SevenBit, part.ContentTransferEncoding);
    }

    [Theory]
    [MemberData(nameof(BothCapabilities), MemberType = typeof(MimeTestSupport))]
    public void Text_and_html_with_inline_images_nest_alternative_and_related(bool eightBitMime)
    {
        var logo = RandomBytes(3000, 1);
        var photo = RandomBytes(70_000, 2);
        var message = NewMessage();
        message.TextBody = "Plain version";
        message.HtmlBody = "<p><img src=\"cid:logo@example.com\"><img src=\"cid:photo.1@example.com\"></p>";
        message.InlineResources.Add(InlineResource.FromBytes(logo, "logo@example.com", "image/png", "logo.png"));
        message.InlineResources.Add(InlineResource.FromStream(new MemoryStream(photo), "photo.1@example.com", "image/jpeg"));

        var parsed = RoundTrip(message, Capabilities(eightBitMime));

        var alternative = Assert.IsType<MultipartAlternative>(parsed.Body);
        Assert.Equal(2, alternative.Count);
        Assert.Equal("Plain version", Assert.IsType<TextPart>(alternative[0]).Text);
        var related = Assert.IsType<MultipartRelated>(alternative[1]);
        Assert.Equal("text/html", related.ContentType.Parameters["type"]);
        Assert.Equal(3, related.Count);
        Assert.Equal(message.HtmlBody, Assert.IsType<TextPart>(related[0]).Text);
        var logoPart = Assert.IsType<MimePart>(related[1]);
        Assert.Equal("logo@example.com", logoPart.ContentId);
        Assert.Equal("image/png", logoPart.ContentType.MimeType);
        Assert.Equal("logo.png", logoPart.FileName);
        Assert.Equal(ContentDisposition.Inline, logoPart.ContentDisposition!.Disposition);
        Assert.Equal(logo, Decode(logoPart));
        var photoPart = Assert.IsType<MimePart>(related[2]);
        Assert.Equal("photo.1@example.com", photoPart.ContentId);
        Assert.Equal(photo, Decode(photoPart));
        Assert.Equal(related[1], related.Root == related[0] ? related[1] : null);
    }

    [Fact]
    public void Html_with_inline_images_and_attachments_is_mixed_of_related()
    {
        var message = NewMessage();
        message.HtmlBody = "<img src=\"cid:a@b\">";
        message.InlineResources.Add(InlineResource.FromBytes(new byte[] { 1, 2, 3 }, "a@b", "image/gif"));
        message.Attachments.Add(Attachment.FromBytes(new byte[] { 4, 5, 6 }, "data.bin"));
        var parsed = RoundTrip(message, EightBit);
        var mixed = Assert.IsType<Multipart>(parsed.Body);
        Assert.Equal("mixed", mixed.ContentType.MediaSubtype);
        var related = Assert.IsType<MultipartRelated>(mixed[0]);
        Assert.Equal("a@b", related[1].ContentId);
        Assert.Equal(new byte[] { 4, 5, 6 }, Decode((MimePart)mixed[1]));
        Assert.Equal("application/octet-stream", mixed[1].ContentType.MimeType);
    }

    public static IEnumerable<object[]> FileNames()
    {
        foreach (var name in new[]
        {
            "report.pdf",
            "résumé final.pdf",
            "laporan_kewangan_suku_tahun_ketiga.xlsx",
            "季度财务报告（最终版）.docx",
            "تقرير الربع الثالث.pdf",
            "त्रैमासिक रिपोर्ट.pdf",
            "🎉 party photos 📸.zip",
            "a \"quoted\" name; with=specials, and (comments).txt",
            "a very long ascii file name that certainly does not fit on one header line at all.csv",
            new string('é', 120) + ".txt",
        })
        {
            yield return new object[] { name, true };
            yield return new object[] { name, false };
        }
    }

    [Theory]
    [MemberData(nameof(FileNames))]
    public void Attachment_file_names_in_any_script_read_back_equal(string fileName, bool eightBitMime)
    {
        var content = RandomBytes(1234, fileName.Length);
        var message = NewMessage();
        message.TextBody = "See attachment.";
        message.Attachments.Add(Attachment.FromBytes(content, fileName));
        var parsed = RoundTrip(message, Capabilities(eightBitMime));
        var attachment = Assert.IsAssignableFrom<MimePart>(Assert.Single(parsed.Attachments));
        Assert.Equal(fileName, attachment.FileName);
        Assert.Equal(fileName, attachment.ContentType.Name);
        Assert.True(attachment.IsAttachment);
        Assert.Equal(ContentEncoding.Base64, attachment.ContentTransferEncoding);
        Assert.Equal(content, Decode(attachment));
    }

    [Fact]
    public void A_5_MB_attachment_from_a_stream_a_file_and_bytes_reads_back_byte_for_byte()
    {
        var content = RandomBytes(5 * 1024 * 1024 + 17, 5);
        var path = Path.Combine(Path.GetTempPath(), "directmail-" + Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(path, content);
        try
        {
            var message = NewMessage();
            message.TextBody = "Three big files.";
            message.Attachments.Add(Attachment.FromStream(new MemoryStream(content), "stream.bin"));
            message.Attachments.Add(Attachment.FromFile(path));
            message.Attachments.Add(Attachment.FromBytes(content, "bytes.bin", "application/x-test"));

            var parsed = RoundTrip(message, SevenBit);

            var attachments = parsed.Attachments.Cast<MimePart>().ToArray();
            Assert.Equal(new[] { "stream.bin", Path.GetFileName(path), "bytes.bin" }, attachments.Select(a => a.FileName));
            Assert.Equal("application/x-test", attachments[2].ContentType.MimeType);
            foreach (var attachment in attachments)
            {
                Assert.True(content.AsSpan().SequenceEqual(Decode(attachment)));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_seekable_stream_attachment_is_rewound_for_each_attempt_and_a_forward_only_one_is_sent_once()
    {
        var seekable = new MemoryStream(RandomBytes(100, 1));
        seekable.Position = 10;
        var message = NewMessage();
        message.Attachments.Add(Attachment.FromStream(seekable, "a.bin"));
        var content = message.ToSmtpContent();
        var first = Write(content, SevenBit);
        var second = Write(content, SevenBit);
        Assert.Equal(first, second);
        Assert.Equal(RandomBytes(100, 1).AsSpan(10).ToArray(), Decode((MimePart)Parse(first).Attachments.Single()));

        var once = NewMessage();
        once.Attachments.Add(Attachment.FromStream(new ForwardOnlyStream(new byte[] { 1, 2, 3 }), "b.bin"));
        var onceContent = once.ToSmtpContent();
        Write(onceContent, SevenBit);
        Assert.Throws<InvalidOperationException>(() => Write(onceContent, SevenBit));
    }

    [Theory]
    [MemberData(nameof(BothCapabilities), MemberType = typeof(MimeTestSupport))]
    public void Bodies_with_long_lines_controls_and_odd_line_ends_read_back_equal(bool eightBitMime)
    {
        var longAscii = string.Concat(Enumerable.Repeat("0123456789 ", 300));
        var longWord = new string('x', 5000);
        var longChinese = string.Concat(Enumerable.Repeat("汉字测试", 400));
        var text = "line one\rline two\nline three\r\n" + longAscii + "\n" + longWord + "\n" + longChinese
            + "\nbell \a and escape \u001b and form feed \f\n.leading dot\nFrom the start\ntrailing spaces   \ntrailing tab\t\n=equals=\n";
        var message = NewMessage();
        message.TextBody = text;
        message.HtmlBody = "<p>" + longWord + "</p>";
        var bytes = Write(message, Capabilities(eightBitMime));
        var parsed = Parse(bytes);
        Assert.Equal(Normalize(text), Normalize(parsed.TextBody));
        Assert.Equal(message.HtmlBody, Normalize(parsed.HtmlBody));
    }

    [Theory]
    [InlineData("Selamat pagi semua, ini adalah mesej ujian.", true, ContentEncoding.SevenBit)]
    [InlineData("Selamat pagi semua, ini adalah mesej ujian.", false, ContentEncoding.SevenBit)]
    [InlineData("Café, crème brûlée et thé.", true, ContentEncoding.EightBit)]
    [InlineData("Café, crème brûlée et thé, a mostly ASCII sentence.", false, ContentEncoding.QuotedPrintable)]
    [InlineData("这是一个完全用中文写的句子，用来测试编码的选择。", false, ContentEncoding.Base64)]
    [InlineData("这是一个完全用中文写的句子，用来测试编码的选择。", true, ContentEncoding.EightBit)]
    [InlineData("ASCII with a bell \a in it", true, ContentEncoding.QuotedPrintable)]
    public void The_transfer_encoding_is_chosen_by_content_and_capabilities(string text, bool eightBitMime, ContentEncoding expected)
    {
        var message = NewMessage();
        message.TextBody = text;
        var content = message.ToSmtpContent();
        var parsed = Parse(Write(content, Capabilities(eightBitMime)));
        var part = Assert.IsType<TextPart>(parsed.Body);
        Assert.Equal(expected, part.ContentTransferEncoding);
        AssertSinglePartText(text, part.Text);
        Assert.Equal(expected == ContentEncoding.EightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit, content.GetBodyType(Capabilities(eightBitMime)));
    }

    [Fact]
    public void Standard_fields_priority_and_custom_headers_read_back()
    {
        var date = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(8));
        var message = NewMessage();
        message.Sender = new EmailAddress("bounces@lists.example.com", "List Robot");
        message.Date = date;
        message.MessageId = "abc.123@example.com";
        message.Priority = EmailPriority.High;
        message.Headers.Add("X-Campaign", "spring-2026");
        message.Headers.Add("X-Note", "Nota penting: ĉu vi komprenas? 重要");
        message.Headers.Add("List-Unsubscribe", "<mailto:unsubscribe@example.com?subject=unsubscribe>, <https://example.com/unsubscribe/very/long/path/that/goes/on/and/on>");
        message.TextBody = "x";
        var parsed = RoundTrip(message, SevenBit);
        Assert.Equal(date, parsed.Date);
        Assert.Equal("abc.123@example.com", parsed.MessageId);
        Assert.Equal("bounces@lists.example.com", parsed.Sender!.Address);
        Assert.Equal("List Robot", parsed.Sender!.Name);
        Assert.Equal(XMessagePriority.Highest, parsed.XPriority);
        Assert.Equal(MessageImportance.High, parsed.Importance);
        Assert.Equal("spring-2026", parsed.Headers["X-Campaign"]);
        Assert.Equal("Nota penting: ĉu vi komprenas? 重要", parsed.Headers["X-Note"]);
        Assert.Equal(message.Headers[2].Value, parsed.Headers["List-Unsubscribe"]);
        Assert.Equal("1.0", parsed.Headers["MIME-Version"]);

        message.Priority = EmailPriority.Low;
        parsed = RoundTrip(message, SevenBit);
        Assert.Equal(XMessagePriority.Lowest, parsed.XPriority);
        Assert.Equal(MessageImportance.Low, parsed.Importance);
    }

    [Fact]
    public void Date_and_message_id_are_generated_once_when_absent()
    {
        var message = NewMessage();
        message.From = new EmailAddress("me@Sub.Example.COM");
        var before = DateTimeOffset.Now.AddSeconds(-1);
        var content = message.ToSmtpContent();
        Assert.InRange(content.Date, before, DateTimeOffset.Now.AddSeconds(1));
        Assert.Matches("^[a-z2-7]{26}@Sub\\.Example\\.COM$", content.MessageId);
        Assert.NotEqual(content.MessageId, message.ToSmtpContent().MessageId);
        var parsed = Parse(Write(content, SevenBit));
        Assert.Equal(content.MessageId, parsed.MessageId);
        Assert.Equal(content.Date.ToUnixTimeSeconds(), parsed.Date.ToUnixTimeSeconds());
        Assert.Equal(Write(content, SevenBit), Write(content, SevenBit));
        Assert.Null(message.MessageId);

        message.Sender = new EmailAddress("agent@[192.0.2.1]");
        Assert.EndsWith("@[192.0.2.1]", message.ToSmtpContent().MessageId, StringComparison.Ordinal);
    }

    [Fact]
    public void Bcc_is_in_the_envelope_only()
    {
        var message = NewMessage();
        message.Cc.Add("cc@example.com");
        message.Bcc.Add("secret@example.com", "Secret Person");
        message.Bcc.Add("to@EXAMPLE.COM");
        message.TextBody = "x";
        var bytes = Write(message.ToSmtpContent(), SevenBit);
        Assert.DoesNotContain("secret", Ascii(bytes), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Bcc", Ascii(bytes), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Parse(bytes).Bcc);

        var envelope = message.CreateEnvelope();
        Assert.Equal("from@example.com", envelope.Sender);
        Assert.Equal(new[] { "to@example.com", "cc@example.com", "secret@example.com" }, envelope.Recipients);
    }

    [Fact]
    public void Only_bcc_recipients_is_a_valid_message()
    {
        var message = new EmailMessage { From = new EmailAddress("a@example.com"), TextBody = "x" };
        message.Bcc.Add("hidden@example.com");
        var parsed = RoundTrip(message, SevenBit);
        Assert.Empty(parsed.To);
        Assert.Equal(new[] { "hidden@example.com" }, message.CreateEnvelope().Recipients);
    }

    [Fact]
    public void The_envelope_sender_is_sender_or_from()
    {
        var message = NewMessage();
        Assert.Equal("from@example.com", message.CreateEnvelope().Sender);
        message.Sender = new EmailAddress("bounce@example.org");
        Assert.Equal("bounce@example.org", message.CreateEnvelope().Sender);
    }

    [Fact]
    public void No_recipient_no_from_and_inline_without_html_are_clear_errors()
    {
        var noRecipient = new EmailMessage { From = new EmailAddress("a@example.com"), TextBody = "x" };
        Assert.Contains("no recipient", Assert.Throws<InvalidOperationException>(() => noRecipient.ToSmtpContent()).Message, StringComparison.Ordinal);
        Assert.Contains("no recipient", Assert.Throws<InvalidOperationException>(() => noRecipient.CreateEnvelope()).Message, StringComparison.Ordinal);

        var noFrom = new EmailMessage { TextBody = "x" };
        noFrom.To.Add("b@example.com");
        Assert.Contains("From", Assert.Throws<InvalidOperationException>(() => noFrom.ToSmtpContent()).Message, StringComparison.Ordinal);
        Assert.Contains("From", Assert.Throws<InvalidOperationException>(() => noFrom.CreateEnvelope()).Message, StringComparison.Ordinal);

        var inline = NewMessage();
        inline.TextBody = "x";
        inline.InlineResources.Add(InlineResource.FromBytes(new byte[1], "a@b", "image/png"));
        Assert.Contains("HtmlBody", Assert.Throws<InvalidOperationException>(() => inline.ToSmtpContent()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Changes_after_ToSmtpContent_do_not_change_the_content()
    {
        var message = NewMessage();
        message.Subject = "Before";
        message.TextBody = "Before";
        var content = message.ToSmtpContent();
        message.Subject = "After";
        message.TextBody = "After";
        message.To.Add("late@example.com");
        var parsed = Parse(Write(content, SevenBit));
        Assert.Equal("Before", parsed.Subject);
        AssertSinglePartText("Before", parsed.TextBody);
        Assert.Single(parsed.To);
    }

    [Fact]
    public void A_unicode_domain_is_written_in_a_labels_and_needs_nothing()
    {
        var message = new EmailMessage { From = new EmailAddress("info@bücher.example", "Bücher"), TextBody = "x" };
        message.To.Add("kunde@münchen.example");
        var content = message.ToSmtpContent();
        Assert.False(content.RequiresSmtpUtf8);
        var bytes = Write(content, SevenBit);
        Assert.Contains("info@xn--bcher-kva.example", Ascii(bytes), StringComparison.Ordinal);
        Assert.Contains("To: kunde@xn--mnchen-3ya.example\r\n", Ascii(bytes), StringComparison.Ordinal);
        Assert.Equal("kunde@münchen.example", Parse(bytes).To.Mailboxes.Single().Address); // MimeKit shows the U-label
        Assert.Equal(new[] { "kunde@xn--mnchen-3ya.example" }, message.CreateEnvelope().Recipients);
        Assert.False(message.CreateEnvelope().SenderNeedsSmtpUtf8);
    }

    [Fact]
    public void A_utf8_local_part_makes_the_message_need_smtputf8_and_is_written_as_utf8()
    {
        var message = new EmailMessage { From = new EmailAddress("a@example.com"), Subject = "x", TextBody = "x" };
        message.To.Add("用户@例子.example", "用户");
        var content = message.ToSmtpContent();
        Assert.True(content.RequiresSmtpUtf8);
        Assert.Equal(SmtpBodyType.EightBit, content.GetBodyType(EightBit));
        var bytes = Write(content, EightBit);
        Assert.Contains("<用户@xn--fsqu00a.example>", Ascii(bytes), StringComparison.Ordinal);
        var to = Parse(bytes).To.Mailboxes.Single();
        Assert.Equal("用户@例子.example", to.Address);
        Assert.Equal("用户", to.Name);

        var bccOnly = new EmailMessage { From = new EmailAddress("a@example.com"), TextBody = "x" };
        bccOnly.Bcc.Add("用户@example.com");
        Assert.False(bccOnly.ToSmtpContent().RequiresSmtpUtf8);
    }

    [Fact]
    public void Many_recipients_and_long_names_are_folded()
    {
        var message = NewMessage();
        for (var i = 0; i < 200; i++)
        {
            message.To.Add($"recipient{i}@example.com", i % 2 == 0 ? $"Recipient Number {i}" : $"Pengguna nombor {i} — 用户");
        }

        message.Subject = string.Concat(Enumerable.Repeat("word ", 100)) + new string('y', 950);
        message.TextBody = "x";
        var parsed = RoundTrip(message, SevenBit);
        Assert.Equal(201, parsed.To.Count);
        Assert.Equal(message.To.Select(a => a.DisplayName), parsed.To.Mailboxes.Select(m => string.IsNullOrEmpty(m.Name) ? null : m.Name));
        Assert.Equal(message.Subject, parsed.Subject);
    }

    [Fact]
    public void An_empty_message_is_an_empty_text_part()
    {
        var parsed = RoundTrip(NewMessage(), SevenBit);
        Assert.Equal(string.Empty, Normalize(Assert.IsType<TextPart>(parsed.Body).Text).Trim('\n'));
        Assert.Null(parsed.Subject);
    }

    [Fact]
    public void Attachments_without_body_are_a_mixed_of_attachments()
    {
        var message = NewMessage();
        message.Attachments.Add(Attachment.FromBytes(Encoding.UTF8.GetBytes("a,b\n1,2\n"), "data.csv"));
        var parsed = RoundTrip(message, SevenBit);
        var mixed = Assert.IsType<Multipart>(parsed.Body);
        var part = Assert.IsType<TextPart>(Assert.Single(mixed));
        Assert.Equal("text/csv", part.ContentType.MimeType);
        Assert.Equal("a,b\n1,2\n", Encoding.UTF8.GetString(Decode(part)));
    }

    [Fact]
    public void Content_types_are_guessed_from_the_extension_and_checked()
    {
        Assert.Equal("application/pdf", Attachment.FromBytes(Array.Empty<byte>(), "A.PDF").ContentType);
        Assert.Equal("image/jpeg", Attachment.FromBytes(Array.Empty<byte>(), "x.jpeg").ContentType);
        Assert.Equal("application/octet-stream", Attachment.FromBytes(Array.Empty<byte>(), "noextension").ContentType);
        Assert.Equal("text/plain", Attachment.FromBytes(Array.Empty<byte>(), "x.bin", "Text/Plain").ContentType);
        Assert.Throws<ArgumentException>(() => Attachment.FromBytes(Array.Empty<byte>(), "x", "text"));
        Assert.Throws<ArgumentException>(() => Attachment.FromBytes(Array.Empty<byte>(), "x", "text/plain; charset=x"));
        Assert.Throws<ArgumentException>(() => Attachment.FromBytes(Array.Empty<byte>(), "x", "multipart/mixed"));
        Assert.Throws<FileNotFoundException>(() => Attachment.FromFile("/nonexistent/file.pdf"));
    }

    internal static EmailMessage NewMessage()
    {
        var message = new EmailMessage { From = new EmailAddress("from@example.com", "From Person") };
        message.To.Add("to@example.com", "To Person");
        return message;
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static byte[] Decode(MimePart part)
    {
        using var output = new MemoryStream();
        part.Content!.DecodeTo(output);
        return output.ToArray();
    }

    /// <summary>Line ends as LF: the writer sends CRLF and MimeKit may give either back.</summary>
    internal static string Normalize(string? text) => (text ?? string.Empty).Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');

    /// <summary>
    /// A single-part body is the last thing in the message, whose final line is ended by CRLF (RFC 5321 section
    /// 4.1.1.4), so text without a final line end reads back with one; in a multipart body the CRLF belongs to the boundary.
    /// </summary>
    internal static void AssertSinglePartText(string expected, string? actual)
    {
        // Base64 carries the text exactly; the other encodings end with the message's final line end.
        expected = Normalize(expected);
        Assert.Contains(Normalize(actual), new[] { expected, expected.EndsWith('\n') ? expected : expected + "\n" });
    }
}

public class MessageLengthTests
{
    [Theory]
    [MemberData(nameof(MimeTestSupport.BothCapabilities), MemberType = typeof(MimeTestSupport))]
    public void The_length_is_exactly_what_is_written_without_reading_attachments(bool eightBitMime)
    {
        var capabilities = MimeTestSupport.Capabilities(eightBitMime);
        var path = System.IO.Path.GetTempFileName();
        System.IO.File.WriteAllBytes(path, WriterRoundTripTests.RandomBytes(100_001, 3));
        try
        {
            for (var size = 0; size < 200; size += 37)
            {
                var message = WriterRoundTripTests.NewMessage();
                message.Subject = "Longueur — 长度 " + size;
                message.TextBody = new string('é', size) + "\nplain";
                message.HtmlBody = "<p>" + new string('x', size * 10) + "</p>";
                message.InlineResources.Add(InlineResource.FromStream(new System.IO.MemoryStream(new byte[size]), "i@x", "image/png"));
                message.Attachments.Add(Attachment.FromBytes(new byte[size * 3], "a.bin"));
                message.Attachments.Add(Attachment.FromFile(path));
                var content = message.ToSmtpContent();
                var length = content.GetLength(capabilities);
                Assert.Equal(MimeTestSupport.Write(content, capabilities).LongLength, length);
                Assert.Equal(length, content.GetLength(capabilities));
            }
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void The_length_is_unknown_with_a_forward_only_attachment()
    {
        var message = WriterRoundTripTests.NewMessage();
        message.Attachments.Add(Attachment.FromStream(new System.IO.BufferedStream(new ForwardOnlyStream([])), "a.bin"));
        Assert.Null(message.ToSmtpContent().GetLength(MimeTestSupport.SevenBit));
    }
}
