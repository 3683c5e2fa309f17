using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using DirectMail.Tests.Queue;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// DirectMail's failure notice against Postfix's for the same failing recipient: the same server refuses the same
/// address with the same reply, once to Postfix relaying, once to DirectMail's queue; each notice is read by
/// Python's email package and the per-recipient fields compared.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixBounceComparisonTests
{
    private const string Refusal = "550 5.1.1 <gone@relayed.postfix.test>: Recipient address rejected: User unknown in virtual mailbox table";
    private readonly PostfixFixture _postfix;

    public PostfixBounceComparisonTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task The_per_recipient_fields_match_Postfix_s_bounce_for_the_same_refusal()
    {
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("RCPT TO:<gone@", StringComparison.Ordinal) ? Refusal : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, PostfixFixture.RelayTarget);
        var sender = PostfixFixture.Recipient("bounce-sender");
        var gone = new SmtpRecipient("gone@" + PostfixFixture.RelayedDomain, DsnNotify.Failure, "list+gone@example.org");

        // Postfix: submitted with the same DSN parameters; it relays to the server, is refused, and bounces to the sender.
        var envelopeId = "cmp-" + Guid.NewGuid().ToString("N")[..10];
        var transcript = new Transcript();
        await using (var session = await ConnectAsync(_postfix, Options(), transcript))
        {
            var submitted = await session.SendAsync(
                new SmtpEnvelope(sender, new[] { gone }) { DsnEnvelopeId = envelopeId, DsnReturn = DsnReturn.Headers },
                SmtpContent.FromBytes(Message(gone.Address, "Compare bounces", "Body.\r\n")));
            Assert.True(submitted.IsDelivered, $"{submitted}\n{transcript}");
        }

        var postfixNotice = await WaitForBounceAsync(envelopeId);

        // DirectMail: the same message through its queue and mailer to the same server.
        var store = new InMemoryQueueStore();
        var queue = new MailQueue(store, new MailQueueOptions { RetryJitter = 0, SendDeliveryStatusNotices = true, ReportingMta = "client.directmail.test" });
        await using var mailer = new DirectMailer(
            LoopbackMailerOptions.Create(PostfixFixture.RelayTarget.Port),
            new TableResolver { [PostfixFixture.RelayedDomain] = [("mx." + PostfixFixture.RelayedDomain, 10, PostfixFixture.RelayTarget.Address)] });
        var id = await queue.EnqueueAsync(
            new SmtpEnvelope(sender, new[] { gone }) { DsnEnvelopeId = envelopeId, DsnReturn = DsnReturn.Headers },
            SmtpContent.FromBytes(Message(gone.Address, "Compare bounces", "Body.\r\n")));
        await new MailQueueWorker(queue, mailer).RunOnceAsync(default);
        Assert.Equal(QueueRecipientState.Failed, (await queue.GetAsync(id))!.Recipients[0].State);
        string? noticeId = null;
        await foreach (var m in queue.ListAsync(pendingOnly: false))
        {
            noticeId = m.Sender.Length == 0 ? m.MessageId : noticeId;
        }

        Assert.NotNull(noticeId);
        var ours = store.Content(noticeId);

        using var theirs = await DeliveryStatusNoticeTests.PythonAsync(postfixNotice);
        using var mine = await DeliveryStatusNoticeTests.PythonAsync(ours);
        var theirRecipient = theirs.RootElement.GetProperty("blocks")[1];
        var myRecipient = mine.RootElement.GetProperty("blocks")[1];
        foreach (var field in new[] { "Final-Recipient", "Original-Recipient", "Action", "Status", "Diagnostic-Code" })
        {
            Assert.True(theirRecipient.TryGetProperty(field, out var expected), $"Postfix's notice has no {field}: {theirRecipient}");
            // Postfix folds with a tab and four spaces where DirectMail folds with one space: compared unfolded.
            Assert.Equal(Unfolded(expected.GetString()), Unfolded(myRecipient.GetProperty(field).GetString()));
        }

        Assert.StartsWith("dns; ", theirRecipient.GetProperty("Remote-MTA").GetString(), StringComparison.Ordinal);
        Assert.Equal("dns; mx." + PostfixFixture.RelayedDomain, myRecipient.GetProperty("Remote-MTA").GetString());
        Assert.Equal(envelopeId, theirs.RootElement.GetProperty("blocks")[0].GetProperty("Original-Envelope-Id").GetString());
        Assert.Equal(envelopeId, mine.RootElement.GetProperty("blocks")[0].GetProperty("Original-Envelope-Id").GetString());
        Assert.Equal(
            theirs.RootElement.GetProperty("parts").EnumerateArray().Select(p => p.GetString()),
            mine.RootElement.GetProperty("parts").EnumerateArray().Select(p => p.GetString()));
    }

    private static string Unfolded(string? value) => System.Text.RegularExpressions.Regex.Replace(value ?? string.Empty, @"\s+", " ");

    private async Task<byte[]> WaitForBounceAsync(string envelopeId)
    {
        return await TestTimeouts.FindEventuallyAsync(
            () =>
            {
                foreach (var message in _postfix.ReadInbox())
                {
                    if (Encoding.UTF8.GetString(message.Content).Contains("Original-Envelope-Id: " + envelopeId, StringComparison.Ordinal))
                    {
                        return message.Content;
                    }
                }

                return null;
            },
            $"a bounce from Postfix for {envelopeId}",
            () => "Log:\n" + _postfix.ReadLog());
    }
}
