using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DirectMail.Mime;
using DirectMail.Smtp;
using MimeKit;

namespace DirectMail.Benchmarks;

/// <summary>
/// Building and writing a message with DirectMail's writer against MimeKit (BodyBuilder, MimeMessage.WriteTo), the
/// same content, to Stream.Null. MimeKit is the baseline of each category.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MimeWriterBenchmarks
{
    private const string TextAndHtml = "10 KB text+HTML";
    private const string OneMegabyte = "1 MB attachment";
    private const string LongLine = "16 MB single-line text";

    private static readonly SmtpCapabilities Capabilities = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME", "PIPELINING" }));

    private string _text = string.Empty;
    private string _html = string.Empty;
    private byte[] _attachment = [];
    private string _longLine = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        var html = new StringBuilder("<html><body>\n");
        var line = 0;
        while (text.Length < 5 * 1024)
        {
            text.Append("Line ").Append(line).Append(": Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n");
            html.Append("<p>Line ").Append(line).Append(": Lorem ipsum <b>dolor</b> sit amet, consectetur adipiscing elit.</p>\n");
            line++;
        }

        html.Append("</body></html>\n");
        _text = text.ToString();
        _html = html.ToString();
        _attachment = new byte[1024 * 1024];
        new Random(42).NextBytes(_attachment);
        _longLine = new string('x', 16 * 1024 * 1024);
    }

    [Benchmark(Baseline = true, Description = "MimeKit")]
    [BenchmarkCategory(TextAndHtml)]
    public void MimeKitTextAndHtml()
    {
        var message = NewMimeMessage();
        var builder = new BodyBuilder { TextBody = _text, HtmlBody = _html };
        message.Body = builder.ToMessageBody();
        message.WriteTo(Stream.Null);
    }

    [Benchmark(Description = "DirectMail")]
    [BenchmarkCategory(TextAndHtml)]
    public ValueTask DirectMailTextAndHtml()
    {
        var message = NewEmailMessage();
        message.TextBody = _text;
        message.HtmlBody = _html;
        return message.ToSmtpContent().WriteToAsync(Stream.Null, Capabilities, default);
    }

    [Benchmark(Baseline = true, Description = "MimeKit")]
    [BenchmarkCategory(OneMegabyte)]
    public void MimeKitAttachment()
    {
        var message = NewMimeMessage();
        var builder = new BodyBuilder { TextBody = "The report is attached." };
        builder.Attachments.Add("report.bin", _attachment, new ContentType("application", "octet-stream"));
        message.Body = builder.ToMessageBody();
        message.WriteTo(Stream.Null);
    }

    [Benchmark(Description = "DirectMail")]
    [BenchmarkCategory(OneMegabyte)]
    public ValueTask DirectMailAttachment()
    {
        var message = NewEmailMessage();
        message.TextBody = "The report is attached.";
        message.Attachments.Add(Attachment.FromBytes(_attachment, "report.bin", "application/octet-stream"));
        return message.ToSmtpContent().WriteToAsync(Stream.Null, Capabilities, default);
    }

    [Benchmark(Baseline = true, Description = "MimeKit")]
    [BenchmarkCategory(LongLine)]
    public void MimeKitLongLine()
    {
        var message = NewMimeMessage();
        message.Body = new BodyBuilder { TextBody = _longLine }.ToMessageBody();
        message.WriteTo(Stream.Null);
    }

    /// <summary>One line without a break, quoted-printable: linear in its length (it took 12.5 s when each slice rescanned the rest of the line).</summary>
    [Benchmark(Description = "DirectMail")]
    [BenchmarkCategory(LongLine)]
    public ValueTask DirectMailLongLine()
    {
        var message = NewEmailMessage();
        message.TextBody = _longLine;
        return message.ToSmtpContent().WriteToAsync(Stream.Null, Capabilities, default);
    }

    private static MimeMessage NewMimeMessage()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Siti Nurhaliza", "siti@example.com.my"));
        message.To.Add(new MailboxAddress("Ahmad bin Ismail", "ahmad@example.com"));
        message.Subject = "Quarterly report and meeting agenda";
        return message;
    }

    private static EmailMessage NewEmailMessage()
    {
        var message = new EmailMessage
        {
            From = new EmailAddress("siti@example.com.my", "Siti Nurhaliza"),
            Subject = "Quarterly report and meeting agenda",
        };
        message.To.Add("ahmad@example.com", "Ahmad bin Ismail");
        return message;
    }
}
