using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DirectMail.Mime;
using DirectMail.Smtp;
using static DirectMail.Tests.Mime.MimeTestSupport;

namespace DirectMail.Tests.Mime;

/// <summary>
/// The exact bytes of a few messages with a fixed Date, Message-ID and boundaries, against files reviewed by hand.
/// Set DIRECTMAIL_UPDATE_GOLDEN=1 to rewrite the files after an intended change, and review the diff.
/// </summary>
public class GoldenTests
{
    private static readonly DateTimeOffset FixedDate = new(2026, 11, 26, 9, 30, 0, TimeSpan.FromHours(8));

    private static EmailMessage Base()
    {
        var message = new EmailMessage
        {
            From = new EmailAddress("siti@example.com.my", "Siti Nurhaliza"),
            Date = FixedDate,
            MessageId = "golden.1@example.com.my",
        };
        message.To.Add("ahmad@example.com", "Ahmad bin Ismail");
        return message;
    }

    [Fact]
    public void Ascii_text_only()
    {
        var message = Base();
        message.Subject = "Mesyuarat pada hari Jumaat";
        message.TextBody = "Salam,\n\nMesyuarat akan diadakan pada jam 10 pagi.\n\nTerima kasih.\n";
        AssertGolden("ascii-text.eml", message, SevenBit);
    }

    [Theory]
    [InlineData(false, "multilingual-7bit.eml")]
    [InlineData(true, "multilingual-8bit.eml")]
    public void Multilingual_text_and_html(bool eightBitMime, string file)
    {
        var message = Base();
        message.To.Add("zhang@example.cn", "张伟");
        message.Subject = "Jemputan / 邀请 / دعوة / निमंत्रण 🎉";
        message.TextBody = "Selamat datang! 欢迎! أهلا بك! स्वागत है! 🎉\nCafé crème, naïve façade.\n";
        message.HtmlBody = "<p>Selamat datang! 欢迎! أهلا بك! स्वागत है! 🎉</p>\n<p>Café crème, naïve façade.</p>\n";
        AssertGolden(file, message, Capabilities(eightBitMime));
    }

    [Fact]
    public void Everything_together()
    {
        var message = Base();
        message.Sender = new EmailAddress("bounces@lists.example.com.my");
        message.ReplyTo.Add("help@example.com.my", "Meja Bantuan");
        message.Cc.Add("copy@example.org");
        message.Bcc.Add("hidden@example.net", "Never Written");
        message.Subject = "Laporan suku tahun ketiga: sila semak lampiran sebelum mesyuarat lembaga pengarah";
        message.Priority = EmailPriority.High;
        message.Headers.Add("X-Campaign", "q3-report");
        message.TextBody = "Sila lihat lampiran.";
        message.HtmlBody = "<p>Sila lihat lampiran.</p><img src=\"cid:logo@example.com.my\">";
        message.InlineResources.Add(InlineResource.FromBytes(Encoding.ASCII.GetBytes("GIF89a-not-really"), "logo@example.com.my", "image/gif", "logo.gif"));
        message.Attachments.Add(Attachment.FromBytes(Encoding.UTF8.GetBytes("Suku,Jumlah\nQ3,1234.50\n"), "laporan kewangan 财务报告.csv"));
        AssertGolden("everything.eml", message, SevenBit);
    }

    private static void AssertGolden(string file, EmailMessage message, SmtpCapabilities capabilities, [CallerFilePath] string source = "")
    {
        var actual = Write(message, capabilities, new FixedRandom());
        if (Environment.GetEnvironmentVariable("DIRECTMAIL_UPDATE_GOLDEN") == "1")
        {
            // Rewrites the checked-in file (the source path is only meaningful on a developer's machine; CI builds
            // map it to "/_/").
            File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(source)!, "Golden", file), actual);
        }

        // Read from the build output, where the project copies the golden files.
        var expected = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Mime", "Golden", file));
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, actual);
    }
}
