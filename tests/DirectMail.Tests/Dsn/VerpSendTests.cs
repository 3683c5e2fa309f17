using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dsn;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// VERP on SendAsync (<see cref="DirectMailOptions.Verp"/>): one transaction per recipient, each MAIL FROM the VERP
/// address of its recipient with one tag for the send and the message's DSN parameters kept; the null sender is not rewritten.
/// </summary>
public sealed class VerpSendTests
{
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@client.test\r\nTo: x@verp.test\r\nSubject: v\r\n\r\nHi.\r\n");

    private static DirectMailer Mailer(ScriptedSmtpServer server) => new(
        LoopbackMailerOptions.Create(server.EndPoint.Port, o => o.Verp.BounceDomain = "bounce.client.test"),
        new TableResolver { ["verp.test"] = [("mx.verp.test", 10, server.EndPoint.Address)] });

    [Fact]
    public async Task Each_recipient_gets_its_own_transaction_whose_reverse_path_names_it()
    {
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server);

        var report = await mailer.SendAsync(
            new SmtpEnvelope("a@client.test", new SmtpRecipient[] { new("jane.doe@verp.test", DsnNotify.Failure), "a+b=c@verp.test" }) { DsnEnvelopeId = "e1" },
            SmtpContent.FromBytes(Body));

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        var mails = dialogue.Commands.Where(c => c.StartsWith("MAIL", StringComparison.Ordinal)).ToList();
        var rcpts = dialogue.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, mails.Count);
        // The two transactions run at once (their order at the server varies).
        Assert.Equal(["RCPT TO:<a+b=c@verp.test>", "RCPT TO:<jane.doe@verp.test> NOTIFY=FAILURE"], rcpts.Order(StringComparer.Ordinal));
        Assert.Equal(2, dialogue.Messages.Count);
        var tags = mails.Select(m =>
        {
            var path = m["MAIL FROM:<".Length..m.IndexOf('>', StringComparison.Ordinal)];
            Assert.EndsWith(" ENVID=e1", m, StringComparison.Ordinal);
            Assert.True(VerpAddress.TryDecode(path, "bounces", out var tag, out var recipient), m);
            Assert.EndsWith("@bounce.client.test", path, StringComparison.Ordinal);
            return (tag, recipient);
        }).ToList();
        Assert.Equal(["a+b=c@verp.test", "jane.doe@verp.test"], tags.Select(t => t.recipient).Order(StringComparer.Ordinal));
        Assert.Single(tags.Select(t => t.tag).Distinct());
        Assert.Contains(mails, m => m.Contains("-a+2Bb+3Dc=verp.test@bounce.client.test> ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_null_sender_is_not_rewritten_and_its_recipients_share_one_transaction()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server);

        await mailer.SendAsync(new SmtpEnvelope(string.Empty, "one@verp.test", "two@verp.test"), SmtpContent.FromBytes(Body));

        Assert.Equal(["MAIL FROM:<>"], dialogue.Commands.Where(c => c.StartsWith("MAIL", StringComparison.Ordinal)).Select(c => c.Split(' ')[0] + " " + c.Split(' ')[1][..(c.Split(' ')[1].IndexOf('>', StringComparison.Ordinal) + 1)]));
    }
}
