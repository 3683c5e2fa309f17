using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dsn;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Suppression;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Queue;

namespace DirectMail.Tests.Suppression;

/// <summary>
/// SendAsync with a suppression list (<see cref="DirectMailer.SuppressionStore"/>): a suppressed recipient fails at once
/// with a reply that says why and nothing goes to the server for it, the others are delivered as usual; refusals feed
/// the list when asked; a list that cannot be read sends nothing; the queue's worker honours it too.
/// </summary>
public sealed class SuppressedSendTests
{
    private const string Domain = "suppress.test";
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: a@client.test\r\nTo: x@suppress.test\r\nSubject: s\r\nMessage-ID: <s1@client.test>\r\n\r\nHello.\r\n");
    private readonly InMemorySuppressionStore _store = new();

    private static DirectMailer Mailer(ScriptedSmtpServer server, ISuppressionStore? store, Action<DirectMailOptions>? configure = null)
        => new(LoopbackMailerOptions.Create(server.EndPoint.Port, configure), new TableResolver { [Domain] = [("mx." + Domain, 10, server.EndPoint.Address)] })
        {
            SuppressionStore = store,
        };

    private static List<string> Rcpts(SmtpDialogue dialogue) => dialogue.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_suppressed_recipient_fails_with_why_and_nothing_is_sent_for_it_while_the_others_are_delivered()
    {
        await _store.AddAsync(new SuppressedRecipient("gone@" + Domain, SuppressionSource.Bounce, new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero))
        {
            Classification = BounceClassification.InvalidRecipient,
            Status = new EnhancedStatusCode(5, 1, 1),
            Diagnostic = "550 5.1.1 <gone@suppress.test>: User unknown\r\nin virtual table",
            QueueId = "Q1",
        });
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server, _store);

        var report = await mailer.SendAsync(new SmtpEnvelope("a@client.test", "ok@" + Domain, "gone@suppress.TEST", "two@" + Domain), SmtpContent.FromBytes(Body));

        Assert.Equal(["RCPT TO:<ok@suppress.test>", "RCPT TO:<two@suppress.test>"], Rcpts(dialogue));
        Assert.Single(dialogue.Messages);
        Assert.Equal([DeliveryStatus.Delivered, DeliveryStatus.Failed, DeliveryStatus.Delivered], report.Recipients.Select(r => r.Status));
        var gone = report.Recipients[1];
        Assert.Equal("gone@suppress.TEST", gone.Address);
        Assert.True(gone.Reply!.IsSynthetic);
        Assert.Equal(
            "550 5.1.1 DirectMail did not send to <gone@suppress.TEST>: it is on the suppression list since 2026-12-01 09:00:00Z (bounced, InvalidRecipient, message Q1): 550 5.1.1 <gone@suppress.test>: User unknown  in virtual table",
            gone.Reply.ToString());
        Assert.Null(gone.MxHost);
        Assert.Contains("Remove the address from the suppression list", gone.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_whose_every_recipient_is_suppressed_opens_no_connection()
    {
        await _store.AddAsync(new SuppressedRecipient("gone@" + Domain, SuppressionSource.Manual, DateTimeOffset.UnixEpoch));
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server, _store);

        var report = await mailer.SendAsync(new SmtpEnvelope("a@client.test", "gone@" + Domain), SmtpContent.FromBytes(Body));

        Assert.Equal(DeliveryStatus.Failed, Assert.Single(report.Recipients).Status);
        Assert.StartsWith("550 5.7.1 DirectMail did not send to <gone@suppress.test>", report.Recipients[0].Reply!.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task A_user_unknown_refusal_joins_the_list_when_asked_and_the_next_send_skips_it_but_a_full_mailbox_does_not()
    {
        var dialogue = new SmtpDialogue
        {
            Respond = line => line.StartsWith("RCPT TO:<gone@", StringComparison.Ordinal) ? "550 5.1.1 <gone@suppress.test>: Recipient address rejected: User unknown"
                : line.StartsWith("RCPT TO:<full@", StringComparison.Ordinal) ? "552 5.2.2 <full@suppress.test>: Mailbox full"
                : null,
        };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server, _store, o => o.SuppressRefusedRecipients = true);
        var envelope = new SmtpEnvelope("a@client.test", "gone@" + Domain, "full@" + Domain, "ok@" + Domain);

        await mailer.SendAsync(envelope, SmtpContent.FromBytes(Body));
        var entry = Assert.Single(await ListAsync());
        Assert.Equal(("gone@suppress.test", SuppressionSource.Refusal, BounceClassification.InvalidRecipient, "5.1.1"), (entry.Address, entry.Source, entry.Classification, entry.Status?.ToString()));
        Assert.Equal("550 5.1.1 <gone@suppress.test>: Recipient address rejected: User unknown", entry.Diagnostic);

        var second = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Body));

        Assert.Equal(
            ["RCPT TO:<gone@suppress.test>", "RCPT TO:<full@suppress.test>", "RCPT TO:<ok@suppress.test>", "RCPT TO:<full@suppress.test>", "RCPT TO:<ok@suppress.test>"],
            Rcpts(dialogue));
        Assert.Equal(2, dialogue.Messages.Count);
        Assert.True(second.Recipients[0].Reply!.IsSynthetic);
    }

    [Fact]
    public async Task Refusals_do_not_join_the_list_unless_asked()
    {
        var dialogue = new SmtpDialogue { Respond = line => line.StartsWith("RCPT TO:<gone@", StringComparison.Ordinal) ? "550 5.1.1 User unknown" : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server, _store);

        await mailer.SendAsync(new SmtpEnvelope("a@client.test", "gone@" + Domain, "ok@" + Domain), SmtpContent.FromBytes(Body));

        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task A_list_that_cannot_be_read_defers_and_sends_nothing()
    {
        // Stops: a database outage turning into mail to every suppressed address.
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server, new BrokenStore());

        var report = await mailer.SendAsync(new SmtpEnvelope("a@client.test", "any@" + Domain), SmtpContent.FromBytes(Body));

        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[0].Status);
        Assert.Contains("The suppression list could not be read (database is down)", report.Recipients[0].Detail, StringComparison.Ordinal);
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task The_queue_worker_fails_a_suppressed_recipient_without_sending_and_records_why()
    {
        await _store.AddAsync(new SuppressedRecipient("gone@" + Domain, SuppressionSource.Bounce, DateTimeOffset.UnixEpoch) { Status = new EnhancedStatusCode(5, 1, 1) });
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var mailer = Mailer(server, _store);
        var queue = new MailQueue(new InMemoryQueueStore());
        var id = await queue.EnqueueAsync(new SmtpEnvelope("a@client.test", "gone@" + Domain, "ok@" + Domain), SmtpContent.FromBytes(Body));

        await new MailQueueWorker(queue, mailer).RunOnceAsync(default);

        var message = (await queue.GetAsync(id))!;
        Assert.Equal([QueueRecipientState.Failed, QueueRecipientState.Delivered], message.Recipients.Select(r => r.State));
        Assert.StartsWith("550 5.1.1 DirectMail did not send to <gone@suppress.test>: it is on the suppression list", message.Recipients[0].Attempts[0].Detail, StringComparison.Ordinal);
        Assert.Equal(["RCPT TO:<ok@suppress.test>"], Rcpts(dialogue));
    }

    private async Task<List<SuppressedRecipient>> ListAsync()
    {
        var list = new List<SuppressedRecipient>();
        await foreach (var e in _store.ListAsync())
        {
            list.Add(e);
        }

        return list;
    }

    private sealed class BrokenStore : ISuppressionStore
    {
        public ValueTask AddAsync(SuppressedRecipient entry, CancellationToken cancellationToken = default) => throw new InvalidOperationException("database is down");

        public ValueTask<bool> RemoveAsync(string address, CancellationToken cancellationToken = default) => throw new InvalidOperationException("database is down");

        public ValueTask<SuppressedRecipient?> FindAsync(string address, CancellationToken cancellationToken = default) => throw new InvalidOperationException("database is down");

        public IAsyncEnumerable<SuppressedRecipient> ListAsync(string? afterAddress = null, int limit = 100, CancellationToken cancellationToken = default) => throw new InvalidOperationException("database is down");
    }
}
