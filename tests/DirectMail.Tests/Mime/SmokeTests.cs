using DirectMail.Mime;

namespace DirectMail.Tests.Mime;

public class SmokeTests
{
    [Fact]
    public void Smoke()
    {
        var m = new EmailMessage { From = new EmailAddress("a@example.com", "Ali Bin Abu"), Subject = "Selamat pagi 你好 😀 and a fairly long subject line that must be folded somewhere", TextBody = "Hello\nworld", HtmlBody = "<p>Hello</p>" };
        m.To.Add("b@exämple.com", "张伟");
        m.Attachments.Add(Attachment.FromBytes(new byte[1000], "résumé 中文 very long name of a file that goes on and on.pdf"));
        var bytes = MimeTestSupport.Write(m, MimeTestSupport.SevenBit, new FixedRandom());
        System.Console.WriteLine(MimeTestSupport.Ascii(bytes));
        var parsed = MimeTestSupport.Parse(bytes);
        Assert.Equal(m.Subject, parsed.Subject);
    }
}
