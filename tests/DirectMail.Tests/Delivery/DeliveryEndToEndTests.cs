using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using static DirectMail.Tests.Infrastructure.TestAddresses.Delivery;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// SendAsync end to end: the real resolver asks NSD for the zone deliver.test, and the mailer talks to SMTP servers on
/// 127.0.26.x:10025 (scripted ones, aiosmtpd's greylisting server, Postfix's smtp-sink). Each test checks the report
/// for every recipient and what the servers stored: nothing delivered twice, nothing without an outcome.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeliveryEndToEndTests
{
    [Fact]
    public async Task Preferred_MX_refusing_connections_falls_back_to_the_backup()
    {
        var backup = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(backup.RunAsync, EndPoint(RefusedBackup));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "one@refused.deliver.test", "two@refused.deliver.test");
        var content = Message("refused");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(content));

        AssertEveryRecipientReported(envelope, report);
        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        foreach (var r in report.Recipients)
        {
            AssertDelivered(r, "mx2.refused.deliver.test", RefusedBackup, attempts: 2); // the refused connection counts
        }

        Assert.Equal(1, server.Accepted);
        var stored = Assert.Single(backup.Messages);
        Assert.Equal(content, stored);
        Assert.Equal([Sender + ": one@refused.deliver.test, two@refused.deliver.test"], TransactionLines(backup));
        Assert.Empty(report.Diagnostics);
    }

    [Fact]
    public async Task An_address_that_refuses_is_followed_by_the_next_address_of_the_same_host()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(RefusedBackup));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "one@multiaddr.deliver.test");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("multiaddr")));

        AssertEveryRecipientReported(envelope, report);
        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx.multiaddr.deliver.test", r.MxHost);
        Assert.Equal(RefusedBackup, r.ServerAddress);
        Assert.Single(dialogue.Messages);
    }

    [Fact]
    public async Task Preferred_MX_greeting_421_falls_back_and_is_not_hammered_afterwards()
    {
        await using var busy = ScriptedSmtpServer.Start(c => c.ReplyAsync("421 4.3.2 mx1.greet421.deliver.test Service not available, closing transmission channel"), EndPoint(Greet421Primary));
        var backup = new SmtpDialogue();
        await using var good = ScriptedSmtpServer.Start(backup.RunAsync, EndPoint(Greet421Backup));
        await using var mailer = NewMailer(o => o.MaxRetryAttempts = 2);

        var first = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@greet421.deliver.test"), SmtpContent.FromBytes(Message("421 first")));
        var second = await mailer.SendAsync(new SmtpEnvelope(Sender, "b@greet421.deliver.test"), SmtpContent.FromBytes(Message("421 second")));

        AssertDelivered(first.Recipients[0], "mx2.greet421.deliver.test", Greet421Backup, attempts: 2);
        AssertDelivered(second.Recipients[0], "mx2.greet421.deliver.test", Greet421Backup, attempts: 1);
        Assert.Equal(1, busy.Accepted); // HostBackoffAfter421 (1 minute): the second send does not knock again
        Assert.Equal(2, backup.Messages.Count);
    }

    [Fact]
    public async Task A_host_that_never_greets_times_out_and_the_backup_delivers()
    {
        // The silent host holds the connection past the send's deadline: only the greeting timeout lets the backup deliver.
        await using var silent = ScriptedSmtpServer.Start(async c => await c.NothingArrivesAsync(TimeSpan.FromMinutes(10)), EndPoint(Silent));
        var backup = new SmtpDialogue();
        await using var good = ScriptedSmtpServer.Start(backup.RunAsync, EndPoint(SilentBackup));
        await using var mailer = NewMailer(o =>
        {
            o.Timeouts.Greeting = TimeSpan.FromSeconds(3);
            o.SendTimeout = TimeSpan.FromMinutes(10);
        });

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@silent.deliver.test"), SmtpContent.FromBytes(Message("silent"))).Bounded();

        AssertDelivered(report.Recipients[0], "mx2.silent.deliver.test", SilentBackup, attempts: 2);
        Assert.Equal(1, silent.Accepted);
        Assert.Single(backup.Messages);
    }

    [Fact]
    public async Task A_domain_whose_only_host_never_greets_is_deferred_with_what_happened()
    {
        await using var silent = ScriptedSmtpServer.Start(async c => await c.NothingArrivesAsync(TimeSpan.FromSeconds(5)), EndPoint(Silent));
        await using var mailer = NewMailer(o => o.Timeouts.Greeting = TimeSpan.FromMilliseconds(400));

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@silentonly.deliver.test"), SmtpContent.FromBytes(Message("silent only")));

        var r = Assert.Single(report.Recipients);
        AssertRecipient(r, DeliveryStatus.Deferred, null, null, null, "mx.silentonly.deliver.test", Silent, attempts: 1);
        Assert.False(string.IsNullOrEmpty(r.Detail), r.ToString());
        Assert.Contains("greeting", r.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(report.Diagnostics); // the connection was made: port 25 is not blocked
        Assert.Throws<DeliveryException>(() => report.EnsureDelivered());
    }

    [Fact]
    public async Task Rcpt_4xx_keeps_that_recipient_for_the_next_host_and_the_accepted_one_is_not_sent_twice()
    {
        var first = Postfix(l =>
            l.StartsWith("RCPT TO:<busy", StringComparison.OrdinalIgnoreCase) ? "451 4.3.0 <busy@rcpt4xx.deliver.test>: Temporary lookup failure"
            : l.StartsWith("RCPT TO:<unknown", StringComparison.OrdinalIgnoreCase) ? "550 5.1.1 <unknown@rcpt4xx.deliver.test>: Recipient address rejected: User unknown"
            : null);
        var second = new SmtpDialogue();
        await using var primary = ScriptedSmtpServer.Start(first.RunAsync, EndPoint(Rcpt4xxPrimary));
        await using var backup = ScriptedSmtpServer.Start(second.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "ok@rcpt4xx.deliver.test", "busy@rcpt4xx.deliver.test", "unknown@rcpt4xx.deliver.test");
        var content = Message("rcpt 4xx");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(content));

        AssertEveryRecipientReported(envelope, report);
        AssertDelivered(report.Recipients[0], "mx1.rcpt4xx.deliver.test", Rcpt4xxPrimary, attempts: 1);
        AssertDelivered(report.Recipients[1], "mx2.rcpt4xx.deliver.test", FourXxBackup, attempts: 2);
        AssertRecipient(report.Recipients[2], DeliveryStatus.Failed, 550, "5.1.1", "5.1.1 <unknown@rcpt4xx.deliver.test>: Recipient address rejected: User unknown", "mx1.rcpt4xx.deliver.test", Rcpt4xxPrimary, attempts: 1);
        Assert.Equal([Sender + ": ok@rcpt4xx.deliver.test, busy@rcpt4xx.deliver.test, unknown@rcpt4xx.deliver.test"], TransactionLines(first));
        Assert.Equal([Sender + ": busy@rcpt4xx.deliver.test"], TransactionLines(second));
        Assert.Equal(content, Assert.Single(first.Messages));
        Assert.Equal(content, Assert.Single(second.Messages));
    }

    [Fact]
    public async Task Ehlo_4xx_moves_on_to_the_next_host()
    {
        var refusing = Postfix(l => l.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase) || l.StartsWith("HELO", StringComparison.OrdinalIgnoreCase) ? "451 4.3.0 Server configuration problem" : null);
        var good = new SmtpDialogue();
        await using var primary = ScriptedSmtpServer.Start(refusing.RunAsync, EndPoint(Ehlo4xxPrimary));
        await using var backup = ScriptedSmtpServer.Start(good.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@ehlo4xx.deliver.test"), SmtpContent.FromBytes(Message("ehlo 4xx")));

        AssertDelivered(report.Recipients[0], "mx2.ehlo4xx.deliver.test", FourXxBackup, attempts: 2);
        Assert.Equal(0, Count(refusing, "MAIL"));
        Assert.Single(good.Messages);
    }

    [Fact]
    public async Task Mixed_recipients_across_three_domains_each_get_their_own_outcome()
    {
        var dialogues = new[] { MixedRecipientsDialogue(), MixedRecipientsDialogue(), MixedRecipientsDialogue() };
        await using var alpha = ScriptedSmtpServer.Start(dialogues[0].RunAsync, EndPoint(Alpha));
        await using var beta = ScriptedSmtpServer.Start(dialogues[1].RunAsync, EndPoint(Beta));
        await using var elsewhere = ScriptedSmtpServer.Start(dialogues[2].RunAsync, EndPoint(Elsewhere));
        await using var mailer = NewMailer();
        string[] domains = ["alpha.deliver.test", "beta.deliver.test", "elsewhere.test"];
        var recipients = domains.SelectMany(d => new[] { "ok@" + d, "unknown@" + d, "busy@" + d }).ToArray();
        // Interleaved in the envelope: the report keeps envelope order whatever the grouping by domain.
        var envelope = new SmtpEnvelope(Sender, recipients.OrderBy(r => r[..2], StringComparer.Ordinal).ThenBy(r => r, StringComparer.Ordinal));
        var content = Message("mixed");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(content));

        AssertEveryRecipientReported(envelope, report);
        Assert.Equal((3, 3, 3), (report.DeliveredCount, report.DeferredCount, report.FailedCount));
        string[] hosts = ["mx.alpha.deliver.test", "mx.beta.deliver.test", "mx.elsewhere.test"];
        System.Net.IPAddress[] addresses = [Alpha, Beta, Elsewhere];
        for (var d = 0; d < domains.Length; d++)
        {
            var byAddress = report.Recipients.Where(r => r.Address.EndsWith("@" + domains[d], StringComparison.Ordinal)).ToDictionary(r => r.Address[..r.Address.IndexOf('@', StringComparison.Ordinal)]);
            AssertDelivered(byAddress["ok"], hosts[d], addresses[d]);
            AssertRecipient(byAddress["unknown"], DeliveryStatus.Failed, 550, "5.1.1", $"5.1.1 <unknown@{domains[d]}>: Recipient address rejected: User unknown in virtual mailbox table", hosts[d], addresses[d], attempts: 1);
            AssertRecipient(byAddress["busy"], DeliveryStatus.Deferred, 451, "4.3.0", $"4.3.0 <busy@{domains[d]}>: Temporary lookup failure", hosts[d], addresses[d], attempts: 1);
            Assert.False(byAddress["unknown"].IsPolicyRejection);

            // One connection and one transaction per domain; the message stored once, for the accepted recipient only.
            var transaction = Assert.Single(Transactions(dialogues[d]));
            Assert.Equal(Sender, transaction.Sender);
            Assert.Equal(["busy@" + domains[d], "ok@" + domains[d], "unknown@" + domains[d]], transaction.Recipients.Order(StringComparer.Ordinal));
            Assert.Equal(content, Assert.Single(dialogues[d].Messages));
        }

        Assert.Equal((1, 1, 1), (alpha.Accepted, beta.Accepted, elsewhere.Accepted));
        var error = Assert.Throws<DeliveryException>(() => report.EnsureDelivered());
        Assert.Same(report, error.Report);
        foreach (var r in report.Recipients)
        {
            Assert.True(r.Status == DeliveryStatus.Delivered != error.Message.Contains(r.Address, StringComparison.Ordinal), $"{r.Address} in the exception message: {error.Message}");
        }
    }

    [Fact]
    public async Task Transient_refusals_are_retried_within_the_send_and_permanent_ones_never()
    {
        var dialogue = MixedRecipientsDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Alpha));
        await using var mailer = NewMailer(o =>
        {
            o.MaxRetryAttempts = 2;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
        });
        var envelope = new SmtpEnvelope(Sender, "ok@alpha.deliver.test", "unknown@alpha.deliver.test", "busy@alpha.deliver.test");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("retry")));

        AssertDelivered(report.Recipients[0], "mx.alpha.deliver.test", Alpha);
        AssertRecipient(report.Recipients[1], DeliveryStatus.Failed, 550, "5.1.1", null, "mx.alpha.deliver.test", Alpha, attempts: 1);
        AssertRecipient(report.Recipients[2], DeliveryStatus.Deferred, 451, "4.3.0", null, "mx.alpha.deliver.test", Alpha, attempts: 3);
        var rcpts = Transactions(dialogue).SelectMany(t => t.Recipients).ToList();
        Assert.Equal(1, rcpts.Count(r => r == "ok@alpha.deliver.test"));
        Assert.Equal(1, rcpts.Count(r => r == "unknown@alpha.deliver.test"));
        Assert.Equal(3, rcpts.Count(r => r == "busy@alpha.deliver.test"));
        Assert.Single(dialogue.Messages);
    }

    [Fact]
    public async Task Internationalised_domains_are_grouped_after_normalisation_and_resolved_once()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Idn));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "one@bücher.deliver.test", "two@xn--bcher-kva.deliver.test", "three@BÜCHER.Deliver.Test");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("idn")));

        AssertEveryRecipientReported(envelope, report);
        Assert.All(report.Recipients, r => AssertDelivered(r, "mx.xn--bcher-kva.deliver.test", Idn));
        Assert.Equal(1, server.Accepted);
        var transaction = Assert.Single(Transactions(dialogue));
        Assert.Equal(3, transaction.Recipients.Count);
        Assert.Single(dialogue.Messages);
    }

    [Fact]
    public async Task More_than_100_recipients_go_as_several_transactions_on_one_connection()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Bulk));
        await using var mailer = NewMailer();
        var recipients = Enumerable.Range(0, 250).Select(i => $"user{i:D3}@bulk.deliver.test").ToArray();
        var envelope = new SmtpEnvelope(Sender, recipients);
        var content = Message("bulk");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(content));

        AssertEveryRecipientReported(envelope, report);
        Assert.All(report.Recipients, r => AssertDelivered(r, "mx.bulk.deliver.test", Bulk));
        Assert.Equal(1, server.Accepted);
        var transactions = Transactions(dialogue);
        Assert.Equal([100, 100, 50], transactions.Select(t => t.Recipients.Count));
        Assert.Equal(recipients, transactions.SelectMany(t => t.Recipients));
        Assert.Equal(3, dialogue.Messages.Count);
        Assert.All(dialogue.Messages, m => Assert.Equal(content, m));
    }

    [Fact]
    public async Task Mail_from_5xx_is_permanent_the_backup_is_not_asked_and_policy_is_diagnosed()
    {
        var refusing = Postfix(l => l.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase) ? "550 5.7.1 <sender@client.deliver.test>: Sender address rejected: Access denied" : null);
        var backupDialogue = new SmtpDialogue();
        await using var primary = ScriptedSmtpServer.Start(refusing.RunAsync, EndPoint(MailRejectPrimary));
        await using var backup = ScriptedSmtpServer.Start(backupDialogue.RunAsync, EndPoint(MailRejectBackup));
        await using var mailer = NewMailer(o => o.MaxRetryAttempts = 2);
        var envelope = new SmtpEnvelope(Sender, "a@mailreject.deliver.test", "b@mailreject.deliver.test");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("mail 5xx")));

        AssertEveryRecipientReported(envelope, report);
        foreach (var r in report.Recipients)
        {
            AssertRecipient(r, DeliveryStatus.Failed, 550, "5.7.1", "5.7.1 <sender@client.deliver.test>: Sender address rejected: Access denied", "mx1.mailreject.deliver.test", MailRejectPrimary, attempts: 1);
            Assert.True(r.IsPolicyRejection, r.ToString());
            Assert.False(string.IsNullOrWhiteSpace(r.Hint));
        }

        Assert.Equal(1, primary.Accepted);
        Assert.Equal(1, Count(refusing, "MAIL"));
        Assert.Equal(0, backup.Accepted);
        Assert.Empty(refusing.Messages);
    }

    [Fact]
    public async Task Data_5xx_is_permanent_keeps_every_line_and_is_not_retried()
    {
        const string gmail = "550-5.7.26 This mail is unauthenticated, which poses a security risk to the\r\n550-5.7.26 sender and Gmail users, and has been blocked. The sender must\r\n550 5.7.26 authenticate with at least one of SPF or DKIM. - gsmtp";
        var dialogue = new SmtpDialogue { Respond = l => l == "<end-of-data>" ? gmail : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(DataReject));
        await using var mailer = NewMailer(o => o.MaxRetryAttempts = 2);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@datareject.deliver.test"), SmtpContent.FromBytes(Message("data 5xx")));

        var r = Assert.Single(report.Recipients);
        AssertRecipient(r, DeliveryStatus.Failed, 550, "5.7.26", "5.7.26 This mail is unauthenticated, which poses a security risk to the\n5.7.26 sender and Gmail users, and has been blocked. The sender must\n5.7.26 authenticate with at least one of SPF or DKIM. - gsmtp", "mx.datareject.deliver.test", DataReject, attempts: 1);
        Assert.Equal(3, r.Reply!.Lines.Count);
        Assert.True(r.IsPolicyRejection);
        Assert.False(string.IsNullOrWhiteSpace(r.Hint));
        Assert.Equal(1, server.Accepted);
        Assert.Equal(1, Count(dialogue, "DATA"));
    }

    [Fact]
    public async Task Gmail_421_4_7_0_authentication_failure_is_a_policy_rejection_and_not_hammered()
    {
        const string gmail = "421-4.7.0 [127.0.0.1] This message does not have authentication information or fails to\r\n421-4.7.0 pass authentication checks (SPF or DKIM). To best protect our users from spam, the\r\n421 4.7.0 message has been blocked. - gsmtp";
        var dialogue = new SmtpDialogue { Respond = l => l == "<end-of-data>" ? gmail : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Gmail421));
        await using var mailer = NewMailer(o =>
        {
            o.MaxRetryAttempts = 2;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
        });

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@gmail421.deliver.test"), SmtpContent.FromBytes(Message("gmail 421")));

        var r = Assert.Single(report.Recipients);
        Assert.NotEqual(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(421, r.Reply?.Code);
        Assert.Equal("4.7.0", r.Reply?.EnhancedStatusCode?.ToString());
        Assert.Equal(3, r.Reply!.Lines.Count);
        Assert.True(r.IsPolicyRejection, r.ToString());
        Assert.False(string.IsNullOrWhiteSpace(r.Hint));
        Assert.Equal("mx.gmail421.deliver.test", r.MxHost);
        Assert.Equal(1, server.Accepted);
        Assert.Equal(1, Count(dialogue, "DATA"));
    }

    [Fact]
    public async Task Greylisting_is_passed_by_a_retry_within_the_send()
    {
        using var greylist = new GreylistServer(Greylist, TimeSpan.FromMilliseconds(200));
        await using var mailer = NewMailer(o =>
        {
            o.MaxRetryAttempts = 3;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(300);
        });
        var recipient = $"grey-{Guid.NewGuid():N}@greylist.deliver.test";
        var content = Message("greylisted");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        // The retry delay has jitter (Polly's exponential backoff), so a retry may come before the greylisting delay
        // has passed and be deferred again: each try is one 450 in the server's log, the last one the 250.
        var log = greylist.RcptLog.Select(l => l[..3]).ToList();
        AssertRecipient(r, DeliveryStatus.Delivered, 250, "2.0.0", "2.0.0 Ok: queued as GREY1", "mx.greylist.deliver.test", Greylist, attempts: log.Count);
        Assert.InRange(log.Count, 2, 4);
        var stored = Assert.Single(greylist.Messages());
        Assert.Equal(Sender, stored.Sender);
        Assert.Equal([recipient], stored.Recipients);
        Assert.Equal(content, stored.Content);
        Assert.Equal([.. Enumerable.Repeat("450", log.Count - 1), "250"], log);
    }

    [Fact]
    public async Task Greylisting_without_retry_is_deferred_with_the_server_reply()
    {
        using var greylist = new GreylistServer(Greylist, TimeSpan.FromSeconds(60));
        await using var mailer = NewMailer();
        var recipient = $"grey-{Guid.NewGuid():N}@greylist.deliver.test";

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(Message("greylisted")));

        var r = Assert.Single(report.Recipients);
        AssertRecipient(r, DeliveryStatus.Deferred, 450, "4.2.0", $"4.2.0 <{recipient}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/deliver.test.html", "mx.greylist.deliver.test", Greylist, attempts: 1);
        Assert.False(r.IsPolicyRejection);
        Assert.Empty(greylist.Messages());
    }

    [Fact]
    public async Task Postfix_smtp_sink_receives_the_exact_message()
    {
        using var sink = new SmtpSinkServer(TestAddresses.Delivery.Sink);
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "one@sink.deliver.test", "two@sink.deliver.test");
        var content = Message("smtp-sink");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(content));

        AssertEveryRecipientReported(envelope, report);
        foreach (var r in report.Recipients)
        {
            AssertRecipient(r, DeliveryStatus.Delivered, 250, "2.0.0", null, "mx.sink.deliver.test", TestAddresses.Delivery.Sink, attempts: 1);
        }

        var stored = Assert.Single(await TestTimeouts.EventuallyAsync(() => sink.Messages(), "stored by the sink"));
        Assert.Equal(Sender, stored.Sender);
        Assert.Equal(["one@sink.deliver.test", "two@sink.deliver.test"], stored.Recipients);
        Assert.Equal(System.Text.Encoding.ASCII.GetString(content), System.Text.Encoding.ASCII.GetString(stored.Content));
    }

    [Fact]
    public async Task Null_MX_NXDOMAIN_and_a_good_domain_in_one_send()
    {
        var trap = new SmtpDialogue();
        await using var nullMxTrap = ScriptedSmtpServer.Start(trap.RunAsync, EndPoint(NullMxTrap));
        var good = new SmtpDialogue();
        await using var alpha = ScriptedSmtpServer.Start(good.RunAsync, EndPoint(Alpha));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "a@nullmx.deliver.test", "b@nosuch.deliver.test", "c@alpha.deliver.test");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("null mx")));

        AssertEveryRecipientReported(envelope, report);
        AssertRecipient(report.Recipients[0], DeliveryStatus.Failed, 556, "5.1.10", null, null, null, attempts: 0, synthetic: true);
        AssertRecipient(report.Recipients[1], DeliveryStatus.Failed, 550, "5.1.2", null, null, null, attempts: 0, synthetic: true);
        AssertDelivered(report.Recipients[2], "mx.alpha.deliver.test", Alpha);
        Assert.Equal(0, nullMxTrap.Accepted);
        Assert.Single(good.Messages);
    }

    [Fact]
    public async Task Private_targets_are_refused_without_a_connection_unless_allowed()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Private));
        await using var strict = NewMailer(o => o.AllowPrivateTargets = false);
        var envelope = new SmtpEnvelope(Sender, "a@private.deliver.test");

        var refused = await strict.SendAsync(envelope, SmtpContent.FromBytes(Message("private")));

        var r = Assert.Single(refused.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.True(r.Reply is { IsSynthetic: true, IsPermanentNegative: true }, r.ToString());
        Assert.Equal(0, r.Attempts);
        Assert.Equal(0, server.Accepted);

        await using var lax = NewMailer();
        var allowed = await lax.SendAsync(envelope, SmtpContent.FromBytes(Message("private allowed")));
        AssertDelivered(allowed.Recipients[0], "mx.private.deliver.test", Private);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Every_connection_timing_out_is_diagnosed_as_a_blocked_port()
    {
        using var primary = new BlackholeListener(BlackholePrimary);
        using var backup = new BlackholeListener(BlackholeBackup);
        await using var mailer = NewMailer(o => o.Timeouts.Connect = TimeSpan.FromMilliseconds(300));

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@blackhole.deliver.test"), SmtpContent.FromBytes(Message("blackhole")));

        var r = Assert.Single(report.Recipients);
        AssertRecipient(r, DeliveryStatus.Deferred, null, null, null, "mx2.blackhole.deliver.test", BlackholeBackup, attempts: 2);
        var diagnostic = Assert.Single(report.Diagnostics);
        Assert.Contains($"outbound port {Port} is probably blocked", diagnostic, StringComparison.Ordinal);
        Assert.Contains("probably blocked", Assert.Throws<DeliveryException>(() => report.EnsureDelivered()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_promptly_and_closes_the_connection()
    {
        // Silent before the end of the message: after it, the reply is awaited whatever the caller does
        // (DeliveryAfterTheDotTests). The caller cancels once the server holds the DATA command; every timeout is longer
        // than the test's bound, so only the cancellation can end the send in time.
        using var cancel = new CancellationTokenSource();
        var dialogue = SilentAtData(cancel.Cancel);
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Slow));
        await using var mailer = NewMailer(o =>
        {
            TestTimeouts.SetAll(o.Timeouts, TimeSpan.FromMinutes(10));
            o.SendTimeout = TimeSpan.FromMinutes(10);
        });

        var error = await Assert.ThrowsAsync<DeliveryCanceledException>(() => mailer.SendAsync(new SmtpEnvelope(Sender, "a@slow.deliver.test"), SmtpContent.FromBytes(Message("slow")), cancel.Token)).Bounded();

        Assert.Equal(cancel.Token, error.CancellationToken);
        // No outcome was had: never reported as delivered, never as failed.
        var recipient = Assert.Single(error.Report.Recipients);
        Assert.Equal("a@slow.deliver.test", recipient.Address);
        Assert.Equal(DeliveryStatus.Deferred, recipient.Status);
        await server.WaitForScriptsAsync();
        Assert.Equal(0, server.Open);
        Assert.Empty(dialogue.Messages);
    }

    [Fact]
    public async Task A_canceled_send_reports_the_recipients_a_server_already_accepted_as_delivered()
    {
        // README: "Recipients a server had already accepted are in Report as Delivered; the rest as Deferred." One domain
        // is delivered, the other's server holds DATA; the caller cancels only when the first copy is stored.
        using var cancel = new CancellationTokenSource();
        var slowAtData = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = SilentAtData(() => slowAtData.TrySetResult());
        var fast = new SmtpDialogue();
        await using var slowServer = ScriptedSmtpServer.Start(slow.RunAsync, EndPoint(Slow));
        await using var fastServer = ScriptedSmtpServer.Start(fast.RunAsync, EndPoint(Alpha));
        await using var mailer = NewMailer(o =>
        {
            TestTimeouts.SetAll(o.Timeouts, TimeSpan.FromMinutes(10));
            o.SendTimeout = TimeSpan.FromMinutes(10);
        });
        var envelope = new SmtpEnvelope(Sender, "a@slow.deliver.test", "b@alpha.deliver.test");

        var send = mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("half")), cancel.Token);
        await slowAtData.Task.Bounded();
        await TestTimeouts.EventuallyAsync(() => fast.Messages.Count == 1, "delivered to mx.alpha");
        cancel.Cancel();
        var error = await Assert.ThrowsAsync<DeliveryCanceledException>(() => send).Bounded();

        var delivered = Assert.Single(error.Report.Recipients, r => r.Address == "b@alpha.deliver.test");
        AssertDelivered(delivered, "mx.alpha.deliver.test", Alpha);
        Assert.Equal(DeliveryStatus.Deferred, Assert.Single(error.Report.Recipients, r => r.Address == "a@slow.deliver.test").Status);
        Assert.Equal(1, error.Report.DeliveredCount);
        Assert.Empty(slow.Messages);
    }

    /// <summary>A server that never answers the DATA command, and tells the test when it holds it.</summary>
    private static SmtpDialogue SilentAtData(Action atData) => new()
    {
        Respond = l =>
        {
            if (l != "DATA")
            {
                return null;
            }

            atData();
            return SmtpDialogue.Silent;
        },
    };

    [Fact]
    public async Task A_burst_to_one_domain_reuses_a_few_pooled_connections()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Pool));
        await using var mailer = NewMailer(o => o.MaxConnectionsPerHost = 2);
        var ids = Enumerable.Range(0, 200).Select(i => "burst" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var reports = new ConcurrentBag<DeliveryReport>();

        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
            reports.Add(await mailer.SendAsync(new SmtpEnvelope(Sender, id + "@pool.deliver.test"), SmtpContent.FromBytes(Message(id, id)), ct)));

        Assert.Equal(200, reports.Count);
        Assert.All(reports, r => Assert.True(r.IsFullyDelivered, string.Join("; ", r.Recipients)));
        Assert.InRange(server.Accepted, 1, 2);
        Assert.InRange(server.MaxOpen, 1, 2);
        var delivered = dialogue.Messages.Select(m => System.Text.Encoding.ASCII.GetString(m)).Select(m => m[(m.IndexOf("Message-ID: <", StringComparison.Ordinal) + 13)..m.IndexOf('@', m.IndexOf("Message-ID: <", StringComparison.Ordinal))]).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // each once, none twice
    }

    [Fact]
    public async Task Spans_per_domain_and_per_attempt_and_metrics_by_outcome()
    {
        var dialogue = MixedRecipientsDialogue();
        await using var alpha = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Alpha));
        await using var backup = ScriptedSmtpServer.Start(new SmtpDialogue().RunAsync, EndPoint(RefusedBackup));
        await using var mailer = NewMailer();
        using var source = new ActivitySource("DirectMail.Tests.Delivery");
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "DirectMail" or "DirectMail.Tests.Delivery",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var instruments = new ConcurrentBag<string>();
        using var meters = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "DirectMail")
                {
                    instruments.Add(instrument.Name);
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        // The listener hears every DirectMail measurement of the process (parallel tests send too): this test's are
        // those recorded in its own asynchronous flow, where the flag below is set.
        var mine = new AsyncLocal<bool>();
        var measurements = new ConcurrentQueue<string>();
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (mine.Value && instrument.Name is "directmail.recipients" or "directmail.messages")
            {
                measurements.Enqueue($"{instrument.Name} {value} " + string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")));
            }
        });
        meters.Start();
        mine.Value = true;

        string traceId;
        using (var parent = source.StartActivity("test"))
        {
            traceId = parent!.TraceId.ToString();
            await mailer.SendAsync(new SmtpEnvelope(Sender, "ok@alpha.deliver.test", "unknown@alpha.deliver.test", "x@refused.deliver.test"), SmtpContent.FromBytes(Message("telemetry")));
        }

        mine.Value = false;
        var spans = activities.Where(a => a.TraceId.ToString() == traceId && a.Source.Name == "DirectMail").ToList();
        Assert.True(spans.Count >= 5, string.Join(", ", spans.Select(a => a.OperationName)));
        var spanNames = spans.Select(a => a.OperationName).ToList();
        var attempts = spans.Where(a => a.OperationName.Contains("attempt", StringComparison.OrdinalIgnoreCase)).ToList();
        var domains = spans.Where(a => a.OperationName.Contains("domain", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(domains.Count == 2, "domain spans: " + string.Join(", ", spanNames));
        Assert.True(attempts.Count == 3, "attempt spans (alpha, refused mx1, refused mx2): " + string.Join(", ", spanNames));
        Assert.All(attempts, a => Assert.Contains(domains, d => d.SpanId == a.ParentSpanId));
        Assert.Contains("directmail.recipients", instruments);
        Assert.Contains("directmail.messages", instruments);
        // README: directmail.recipients and directmail.messages by directmail.outcome, counted once per send.
        Assert.Equal(
            ["directmail.messages 1 directmail.outcome=partial", "directmail.recipients 1 directmail.outcome=failed", "directmail.recipients 2 directmail.outcome=delivered"],
            measurements.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_lost_reply_after_the_end_of_data_is_not_sent_again_to_the_backup()
    {
        var first = Postfix(l => l == "<end-of-data>" ? SmtpDialogue.Drop : null);
        var second = new SmtpDialogue();
        await using var primary = ScriptedSmtpServer.Start(first.RunAsync, EndPoint(Rcpt4xxPrimary));
        await using var backup = ScriptedSmtpServer.Start(second.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer(o => o.MaxRetryAttempts = 2);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@rcpt4xx.deliver.test"), SmtpContent.FromBytes(Message("lost reply")));

        // The primary has the message (its reply was lost): another host must not get a second copy (RFC 1047).
        var r = Assert.Single(report.Recipients);
        AssertRecipient(r, DeliveryStatus.Deferred, null, null, null, "mx1.rcpt4xx.deliver.test", Rcpt4xxPrimary, attempts: 1);
        Assert.False(string.IsNullOrEmpty(r.Detail));
        Assert.Single(first.Messages);
        Assert.Equal(0, backup.Accepted);
        Assert.Equal(1, primary.Accepted);
    }

    [Fact]
    public async Task A_421_to_RCPT_moves_the_whole_transaction_to_the_next_host()
    {
        var first = Postfix(l => l.StartsWith("RCPT", StringComparison.OrdinalIgnoreCase) ? "421 4.3.2 mx1.rcpt4xx.deliver.test Service shutting down" : null);
        var second = new SmtpDialogue();
        await using var primary = ScriptedSmtpServer.Start(first.RunAsync, EndPoint(Rcpt4xxPrimary));
        await using var backup = ScriptedSmtpServer.Start(second.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, "a@rcpt4xx.deliver.test", "b@rcpt4xx.deliver.test");

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("421 rcpt")));

        AssertEveryRecipientReported(envelope, report);
        Assert.All(report.Recipients, r => AssertDelivered(r, "mx2.rcpt4xx.deliver.test", FourXxBackup, attempts: 2));
        Assert.Empty(first.Messages);
        Assert.Equal([Sender + ": a@rcpt4xx.deliver.test, b@rcpt4xx.deliver.test"], TransactionLines(second));
    }

    [Fact]
    public async Task A_pooled_connection_the_server_closed_while_idle_is_replaced_without_a_failure()
    {
        var mails = 0;
        var dialogue = Postfix(l => l.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref mails) == 2 ? SmtpDialogue.Drop : null);
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, EndPoint(Pool));
        await using var mailer = NewMailer();

        var first = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@pool.deliver.test"), SmtpContent.FromBytes(Message("pooled 1")));
        var second = await mailer.SendAsync(new SmtpEnvelope(Sender, "b@pool.deliver.test"), SmtpContent.FromBytes(Message("pooled 2")));

        AssertDelivered(first.Recipients[0], "mx.pool.deliver.test", Pool);
        Assert.Equal(DeliveryStatus.Delivered, second.Recipients[0].Status);
        Assert.Equal(2, server.Accepted); // the pooled one (dropped at MAIL) and its replacement
        Assert.Equal(2, dialogue.Messages.Count);
    }

    [Fact]
    public async Task The_overall_send_timeout_reports_deferred_instead_of_waiting_for_slow_hosts()
    {
        // The host and the greeting timeout both outlast the test's bound: only SendTimeout can end the send in time.
        await using var silent = ScriptedSmtpServer.Start(async c => await c.NothingArrivesAsync(TimeSpan.FromMinutes(10)), EndPoint(Silent));
        await using var mailer = NewMailer(o =>
        {
            o.Timeouts.Greeting = TimeSpan.FromMinutes(10);
            o.SendTimeout = TimeSpan.FromMilliseconds(700);
        });

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@silentonly.deliver.test"), SmtpContent.FromBytes(Message("deadline"))).Bounded();

        var r = Assert.Single(report.Recipients);
        // The host being tried when the deadline struck is the one that decided: the report names it and counts the attempt.
        var what = $"{r} (attempts {r.Attempts}, detail: {r.Detail})";
        Assert.True(r.Status == DeliveryStatus.Deferred, what);
        Assert.True(r.MxHost == "mx.silentonly.deliver.test", what);
        Assert.True(Equals(r.ServerAddress, Silent), what);
        Assert.True(r.Attempts == 1, what);
        Assert.Equal(1, silent.Accepted);
        await silent.WaitForScriptsAsync(TimeSpan.FromSeconds(5));
    }
}
