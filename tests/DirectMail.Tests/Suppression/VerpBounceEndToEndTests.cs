using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dsn;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Suppression;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using DirectMail.Tests.Queue;

namespace DirectMail.Tests.Suppression;

/// <summary>
/// VERP and the suppression list end to end, with Postfix as the receiving MTA: the queue sends each recipient in its
/// own transaction with a VERP reverse path (checked at the next hop, line by line); Postfix accepts both, the next hop
/// refuses one as unknown, and Postfix's bounce goes to that recipient's VERP address; ingested, it is correlated with
/// the queued message and recipient, and the next send to that recipient sends nothing to it.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class VerpBounceEndToEndTests
{
    private const string Refusal = "550 5.1.1 <gone@relayed.postfix.test>: Recipient address rejected: User unknown in virtual mailbox table";
    private readonly PostfixFixture _postfix;

    public VerpBounceEndToEndTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task A_hard_bounce_to_a_VERP_address_is_correlated_suppressed_and_the_next_send_skips_the_recipient()
    {
        var gone = "gone@" + PostfixFixture.RelayedDomain;
        var ok = "ok@" + PostfixFixture.RelayedDomain;
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("RCPT TO:<gone@", StringComparison.Ordinal) ? Refusal : null };
        await using var nextHop = ScriptedSmtpServer.Start(dialogue.RunAsync, PostfixFixture.RelayTarget);
        var suppression = new InMemorySuppressionStore();
        var queue = new MailQueue(new InMemoryQueueStore(), new MailQueueOptions { RetryJitter = 0 });
        await using var mailer = new DirectMailer(
            LoopbackMailerOptions.Create(PostfixFixture.Port, o => { o.Verp.BounceDomain = PostfixFixture.RelayedDomain; o.Verp.Prefix = "bounces"; }),
            new TableResolver { [PostfixFixture.RelayedDomain] = [(PostfixFixture.HostName, 10, PostfixFixture.Address)] })
        {
            SuppressionStore = suppression,
        };
        var subject = "verp " + Guid.NewGuid().ToString("N")[..8];
        var id = await queue.EnqueueAsync(new SmtpEnvelope("news@client.test", gone, ok), SmtpContent.FromBytes(Message(subject)));

        await new MailQueueWorker(queue, mailer).RunOnceAsync(default);

        // Postfix took both (it relays the domain); at the next hop, one transaction per recipient, each with its VERP path.
        Assert.All((await queue.GetAsync(id))!.Recipients, r => Assert.Equal(QueueRecipientState.Delivered, r.State));
        var verpGone = VerpAddress.Encode("bounces", id, gone, PostfixFixture.RelayedDomain);
        var verpOk = VerpAddress.Encode("bounces", id, ok, PostfixFixture.RelayedDomain);
        Assert.Equal($"bounces+{id}-gone=relayed.postfix.test@relayed.postfix.test", verpGone);
        await WaitAsync(() => Count(dialogue, "RCPT TO:<ok@") == 1 && Count(dialogue, "RCPT TO:<gone@") == 1, "the next hop to see both recipients");
        var transactions = Transactions(dialogue).Where(t => t.From != "<>").ToList(); // Postfix's bounce may have come already
        Assert.Equal(
            [("<" + verpGone + ">", "RCPT TO:<" + gone + ">"), ("<" + verpOk + ">", "RCPT TO:<" + ok + ">")],
            transactions.OrderBy(t => t.Rcpts[0], StringComparer.Ordinal).Select(t => (t.From, Assert.Single(t.Rcpts))));

        // Postfix's bounce for gone goes to gone's VERP address, whose domain's server is the next hop too.
        var bounce = await WaitForBounceAsync(dialogue, verpGone);
        var result = await new BounceIngester(suppression, queue) { RequireCorrelation = true }.IngestAsync(bounce, envelopeRecipient: verpGone);

        Assert.Equal(BounceKind.Dsn, result.Report.Kind);
        Assert.Equal((id, gone), (result.QueueId, result.VerpRecipient));
        var recipient = Assert.Single(result.Recipients);
        Assert.Equal((gone, (int?)0, true), (recipient.Address, recipient.RecipientIndex, recipient.Suppressed));
        var entry = (await suppression.FindAsync(gone))!;
        Assert.Equal((SuppressionSource.Bounce, BounceClassification.InvalidRecipient, "5.1.1", id), (entry.Source, entry.Classification, entry.Status?.ToString(), entry.QueueId));

        // The next send: nothing for gone reaches Postfix or the next hop; ok goes as before.
        var report = await mailer.SendAsync(new SmtpEnvelope("news@client.test", gone, ok), SmtpContent.FromBytes(Message(subject + " again")));

        Assert.Equal([DeliveryStatus.Failed, DeliveryStatus.Delivered], report.Recipients.Select(r => r.Status));
        Assert.True(report.Recipients[0].Reply!.IsSynthetic);
        Assert.Null(report.Recipients[0].MxHost);
        await WaitAsync(() => Count(dialogue, "RCPT TO:<ok@") == 2, "the second copy for ok at the next hop");
        Assert.Equal(1, Count(dialogue, "RCPT TO:<gone@"));
    }

    private static byte[] Message(string subject) => Encoding.ASCII.GetBytes(
        $"From: news@client.test\r\nTo: list@relayed.postfix.test\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@client.test>\r\n\r\nNews.\r\n");

    private static int Count(SmtpDialogue dialogue, string start) => dialogue.Commands.Count(c => c.StartsWith(start, StringComparison.Ordinal));

    /// <summary>Each transaction at the next hop: the MAIL FROM path and its RCPT lines.</summary>
    private static List<(string From, List<string> Rcpts)> Transactions(SmtpDialogue dialogue)
    {
        var list = new List<(string From, List<string> Rcpts)>();
        foreach (var line in dialogue.Commands)
        {
            if (line.StartsWith("MAIL FROM:", StringComparison.Ordinal))
            {
                list.Add((line["MAIL FROM:".Length..].Split(' ')[0], []));
            }
            else if (line.StartsWith("RCPT TO:", StringComparison.Ordinal))
            {
                list[^1].Rcpts.Add(line[..(line.IndexOf('>', StringComparison.Ordinal) + 1)]); // without Postfix's own parameters
            }
        }

        return list;
    }

    private static Task WaitAsync(Func<bool> condition, string what) => TestTimeouts.EventuallyAsync(condition, what);

    private async Task<byte[]> WaitForBounceAsync(SmtpDialogue dialogue, string verp)
    {
        return await TestTimeouts.FindEventuallyAsync(
            () =>
            {
                if (Count(dialogue, "RCPT TO:<" + verp + ">") == 1)
                {
                    foreach (var message in dialogue.Messages)
                    {
                        var text = Encoding.UTF8.GetString(message);
                        if (text.Contains("multipart/report", StringComparison.Ordinal) && text.Contains("To: " + verp, StringComparison.Ordinal))
                        {
                            return message;
                        }
                    }
                }

                return null;
            },
            $"a bounce from Postfix to {verp}",
            () => "Log:\n" + _postfix.ReadLog());
    }
}
