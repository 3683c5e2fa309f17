using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using static DirectMail.Tests.Infrastructure.TestAddresses.Delivery;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// SendTimeout and the caller's cancellation striking after the final dot (review of issue 10, item 2): the server
/// may have taken the message, so the report gives its reply or says "may have been delivered", never a plain
/// Deferred that invites a resend, and the message is never sent to the backup MX. Also item 5 end to end: a stray
/// 354 after a refused MAIL makes the retry use a fresh connection.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeliveryAfterTheDotTests
{
    private const string Primary = "mx1.rcpt4xx.deliver.test";

    /// <summary>A server that takes the message and answers after the dot only when <paramref name="reply"/> completes (never when it is null).</summary>
    private static Func<ScriptedConnection, Task> AnswersLate(TaskCompletionSource dotReceived, Func<Task<string?>> reply) => async c =>
    {
        await c.ReplyAsync("220 mx1.rcpt4xx.deliver.test ESMTP");
        await c.ExpectAsync("EHLO");
        await c.ReplyAsync("250-mx1.rcpt4xx.deliver.test\r\n250 PIPELINING");
        await c.ExpectAsync("MAIL");
        await c.ExpectAsync("RCPT");
        await c.ExpectAsync("DATA");
        await c.SendAsync("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
        await c.ReadDataAsync();
        dotReceived.TrySetResult();
        var text = await reply();
        if (text is not null)
        {
            await c.ReplyAsync(text);
        }

        await c.ClientClosesAsync(TimeSpan.FromSeconds(15));
    };

    [Fact]
    public async Task SendTimeout_elapsing_after_the_final_dot_still_gets_the_servers_reply_within_DataTerminationTimeout()
    {
        // Stops: SendTimeout cutting the wait for the reply to the dot and reporting "SendTimeout elapsed before this
        // recipient had an outcome" (Deferred, resent later) for a message the server queued.
        var dot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sendTimeout = TimeSpan.FromSeconds(3);
        await using var primary = ScriptedSmtpServer.Start(AnswersLate(dot, async () =>
        {
            await Task.Delay(sendTimeout + TimeSpan.FromSeconds(1));
            return "250 " + Queued;
        }), EndPoint(Rcpt4xxPrimary));
        var backup = new SmtpDialogue();
        await using var second = ScriptedSmtpServer.Start(backup.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer(o =>
        {
            o.SendTimeout = sendTimeout;
            o.Timeouts.DataTermination = TimeSpan.FromSeconds(10);
        });

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@rcpt4xx.deliver.test"), SmtpContent.FromBytes(Message("late reply")));

        Assert.True(dot.Task.IsCompleted);
        Assert.True(report.Duration > sendTimeout, $"the reply came after SendTimeout: {report.Duration}");
        var r = Assert.Single(report.Recipients);
        AssertDelivered(r, Primary, Rcpt4xxPrimary, attempts: 1);
        Assert.False(r.MayHaveBeenDelivered);
        Assert.Equal(0, second.Accepted);
    }

    [Fact]
    public async Task No_reply_after_the_final_dot_is_may_have_been_delivered_and_not_sent_to_the_backup_even_past_SendTimeout()
    {
        // Stops: the silence after the dot being reported as "SendTimeout elapsed before this recipient had an
        // outcome", which a caller reads as "not sent" and resends.
        var dot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var primary = ScriptedSmtpServer.Start(AnswersLate(dot, () => Task.FromResult<string?>(null)), EndPoint(Rcpt4xxPrimary));
        var backup = new SmtpDialogue();
        await using var second = ScriptedSmtpServer.Start(backup.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer(o =>
        {
            o.SendTimeout = TimeSpan.FromSeconds(2);
            o.Timeouts.DataTermination = TimeSpan.FromSeconds(3.5);
            o.MaxRetryAttempts = 2;
        });

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@rcpt4xx.deliver.test"), SmtpContent.FromBytes(Message("no reply")));

        Assert.True(dot.Task.IsCompleted);
        Assert.True(report.Duration >= TimeSpan.FromSeconds(3.4), $"the whole DataTerminationTimeout is waited: {report.Duration}");
        var r = Assert.Single(report.Recipients);
        AssertRecipient(r, DeliveryStatus.Deferred, null, null, null, Primary, Rcpt4xxPrimary, attempts: 1);
        Assert.True(r.MayHaveBeenDelivered);
        Assert.Contains("may have been delivered", r.Detail, StringComparison.Ordinal);
        Assert.Equal(0, second.Accepted);
        Assert.Equal(1, primary.Accepted);
    }

    [Fact]
    public async Task Caller_canceling_after_the_final_dot_gets_the_servers_reply_in_the_canceled_report()
    {
        // Stops: "The send was canceled before this recipient had an outcome" for a message the server then queued.
        var dot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        await using var primary = ScriptedSmtpServer.Start(AnswersLate(dot, async () =>
        {
            cts.Cancel();
            await Task.Delay(700);
            return "250 " + Queued;
        }), EndPoint(Rcpt4xxPrimary));
        var backup = new SmtpDialogue();
        await using var second = ScriptedSmtpServer.Start(backup.RunAsync, EndPoint(FourXxBackup));
        await using var mailer = NewMailer();

        var canceled = await Assert.ThrowsAsync<DeliveryCanceledException>(() =>
            mailer.SendAsync(new SmtpEnvelope(Sender, "a@rcpt4xx.deliver.test"), SmtpContent.FromBytes(Message("canceled after the dot")), cts.Token));

        var r = Assert.Single(canceled.Report.Recipients);
        AssertDelivered(r, Primary, Rcpt4xxPrimary, attempts: 1);
        Assert.Equal(0, second.Accepted);
    }

    [Fact]
    public async Task MAIL_451_with_354_to_the_pipelined_DATA_is_retried_on_a_fresh_connection_not_into_the_open_data()
    {
        // Review item 5. Stops: the connection left in the server's DATA state going back to the pool, the retry's
        // RSET and MAIL becoming message text, and the send hanging until MailFromTimeout.
        var connections = 0;
        bool? firstClosedAtOnce = null;
        var good = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            if (Interlocked.Increment(ref connections) > 1)
            {
                await good.RunAsync(c);
                return;
            }

            await c.ReplyAsync("220 mx.alpha.deliver.test ESMTP");
            await c.ExpectAsync("EHLO");
            await c.ReplyAsync("250-mx.alpha.deliver.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync("451 4.3.0 Temporary sender problem\r\n503 5.5.1 Error: need MAIL command\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
            firstClosedAtOnce = await c.ClientClosesAsync(TimeSpan.FromSeconds(5));
        }, EndPoint(Alpha));
        // MAIL FROM's timeout is longer than the test's bound: the stray 354 must end the first connection, not a wait.
        await using var mailer = NewMailer(o =>
        {
            o.MaxRetryAttempts = 1;
            o.Timeouts.MailFrom = TimeSpan.FromMinutes(10);
            o.SendTimeout = TimeSpan.FromMinutes(10);
        });

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "a@alpha.deliver.test"), SmtpContent.FromBytes(Message("mail 451 then 354"))).Bounded();

        AssertDelivered(Assert.Single(report.Recipients), "mx.alpha.deliver.test", Alpha, attempts: 2);
        Assert.True(firstClosedAtOnce, "the first connection must be closed after the stray 354, with nothing sent into it");
        Assert.Equal(2, server.Accepted);
        Assert.Single(good.Messages);
    }
}
