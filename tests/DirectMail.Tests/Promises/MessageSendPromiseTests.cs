using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Mime;
using DirectMail.MimeKit;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using MimeKit;

namespace DirectMail.Tests.Promises;

/// <summary>
/// README: <c>await mailer.SendAsync(message)</c> for an <see cref="EmailMessage"/> and <c>mailer.SendAsync(mimeMessage)</c>
/// for a MimeKit message: the envelope is taken from the message (From, or Sender; To, Cc and Bcc), each recipient goes
/// to its own domain's server, Bcc is never written, and what each server stores is exactly what the writer writes.
/// Scripted servers on 127.0.127.x with a resolver from a table.
/// </summary>
public sealed class MessageSendPromiseTests
{
    private const int Port = 10127;
    private static readonly IPAddress AlphaAddress = IPAddress.Parse("127.0.127.1");
    private static readonly IPAddress BetaAddress = IPAddress.Parse("127.0.127.2");
    private static readonly DateTimeOffset FixedDate = new(2026, 11, 26, 9, 30, 0, TimeSpan.FromHours(8));

    private static DirectMailer Mailer(IPAddress alpha, IPAddress beta) => new(
        LoopbackMailerOptions.Create(Port, o => o.SendTimeout = TimeSpan.FromSeconds(30)),
        new TableResolver
        {
            ["example.com"] = [("mx.example.com", 10, alpha)],
            ["example.org"] = [("mx.example.org", 10, beta)],
        });

    [Fact]
    public async Task SendAsync_of_an_EmailMessage_stores_the_writers_exact_bytes_at_each_domain_and_never_the_Bcc()
    {
        // Stops: the extension building its envelope from the wrong fields (Bcc recipients dropped, or Reply-To
        // taken as the sender), and the Bcc header travelling to every recipient.
        var alpha = new SmtpDialogue();
        var beta = new SmtpDialogue();
        await using var alphaServer = ScriptedSmtpServer.Start(alpha.RunAsync, new IPEndPoint(AlphaAddress, Port));
        await using var betaServer = ScriptedSmtpServer.Start(beta.RunAsync, new IPEndPoint(BetaAddress, Port));
        await using var mailer = Mailer(AlphaAddress, BetaAddress);
        var message = new EmailMessage
        {
            From = new EmailAddress("siti@example.com.my", "Siti Nurhaliza"),
            Date = FixedDate,
            MessageId = "golden.1@example.com.my",
            Subject = "Mesyuarat pada hari Jumaat",
            TextBody = "Salam,\n\nMesyuarat akan diadakan pada jam 10 pagi.\n\nTerima kasih.\n",
        };
        message.To.Add("ahmad@example.com", "Ahmad bin Ismail");
        var expected = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Mime", "Golden", "ascii-text.eml"));
        message.ReplyTo.Add("help@example.com.my");
        message.Bcc.Add("hidden@example.org", "Never Written");

        var report = await mailer.SendAsync(message).Bounded();

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(["ahmad@example.com", "hidden@example.org"], report.Recipients.Select(r => r.Address));
        Assert.Equal(["MAIL FROM:<siti@example.com.my>", "RCPT TO:<ahmad@example.com>"], Transaction(alpha));
        Assert.Equal(["MAIL FROM:<siti@example.com.my>", "RCPT TO:<hidden@example.org>"], Transaction(beta));
        var stored = Assert.Single(alpha.Messages);
        Assert.Equal(stored, Assert.Single(beta.Messages));
        var text = Encoding.ASCII.GetString(stored);
        Assert.DoesNotContain("hidden@", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Bcc:", text, StringComparison.OrdinalIgnoreCase);

        // The golden file is the same message without Reply-To: the stored bytes are it with that one field added.
        Assert.Equal(Encoding.ASCII.GetString(expected), text.Replace("Reply-To: help@example.com.my\r\n", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SendAsync_of_a_MimeMessage_stores_what_MimeKit_writes_at_each_domain_and_never_the_Bcc()
    {
        var alpha = new SmtpDialogue();
        var beta = new SmtpDialogue();
        await using var alphaServer = ScriptedSmtpServer.Start(alpha.RunAsync, new IPEndPoint(AlphaAddress, Port));
        await using var betaServer = ScriptedSmtpServer.Start(beta.RunAsync, new IPEndPoint(BetaAddress, Port));
        await using var mailer = Mailer(AlphaAddress, BetaAddress);
        var message = new MimeMessage { Date = FixedDate, MessageId = "mimekit.1@example.net", Subject = "Quarterly figures" };
        message.From.Add(new MailboxAddress("Reports", "reports@example.net"));
        message.Sender = new MailboxAddress(null, "bounces@example.net");
        message.To.Add(new MailboxAddress("Ahmad", "ahmad@example.com"));
        message.Cc.Add(new MailboxAddress(null, "board@example.org"));
        message.Bcc.Add(new MailboxAddress("Auditor", "audit@example.org"));
        message.Body = new TextPart("plain") { Text = "Figures attached.\r\n.A line with a leading dot.\r\n" };

        var report = await mailer.SendAsync(message).Bounded();

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(["MAIL FROM:<bounces@example.net>", "RCPT TO:<ahmad@example.com>"], Transaction(alpha));
        Assert.Equal(["MAIL FROM:<bounces@example.net>", "RCPT TO:<board@example.org>", "RCPT TO:<audit@example.org>"], Transaction(beta));

        // Exactly MimeKit's own output with CRLF and the Bcc hidden, at both servers.
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.HiddenHeaders.Add(HeaderId.Bcc);
        using var written = new MemoryStream();
        await message.WriteToAsync(options, written);
        var stored = Assert.Single(alpha.Messages);
        Assert.Equal(Encoding.ASCII.GetString(written.ToArray()), Encoding.ASCII.GetString(stored));
        Assert.Equal(stored, Assert.Single(beta.Messages));
        Assert.DoesNotContain("audit@", Encoding.ASCII.GetString(stored), StringComparison.Ordinal);
        Assert.Equal("Auditor", Assert.Single(message.Bcc.Mailboxes).Name); // the caller's message is left as it was
    }

    /// <summary>The MAIL and RCPT commands as the server received them, without the parameters (SIZE, BODY).</summary>
    private static string[] Transaction(SmtpDialogue dialogue) => dialogue.Commands
        .Where(c => c.StartsWith("MAIL", StringComparison.Ordinal) || c.StartsWith("RCPT", StringComparison.Ordinal))
        .Select(c => c.Split(' ')[0] + " " + c.Split(' ')[1])
        .ToArray();
}
