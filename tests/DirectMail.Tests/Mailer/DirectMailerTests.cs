using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Mailer;

/// <summary>
/// The mailer's fallback rules against scripted servers on fixed loopback addresses, with a resolver that answers
/// from a table (the DNS side is covered against NSD in the Dns and Delivery tests).
/// </summary>
public sealed class DirectMailerTests
{
    private const int Port = 10125;
    private static int _nextAddress = 10;

    /// <summary>A fresh loopback address per server, so tests running at once never share one.</summary>
    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.27.{Interlocked.Increment(ref _nextAddress)}");

    private static DirectMailOptions Options(Action<DirectMailOptions>? configure = null) => LoopbackMailerOptions.Create(Port, configure);

    private static SmtpContent Content() => SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray());

    [Fact]
    public async Task Recipients_of_two_domains_are_delivered_each_to_its_own_MX()
    {
        var a = new SmtpDialogue();
        var b = new SmtpDialogue();
        var addressA = NewAddress();
        var addressB = NewAddress();
        await using var serverA = ScriptedSmtpServer.Start(a.RunAsync, new IPEndPoint(addressA, Port));
        await using var serverB = ScriptedSmtpServer.Start(b.RunAsync, new IPEndPoint(addressB, Port));
        var resolver = new TableResolver { ["a.test"] = [("mx.a.test", 10, addressA)], ["b.test"] = [("mx.b.test", 10, addressB)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@a.test", "y@b.test", "z@a.test"), Content());

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(new[] { "x@a.test", "y@b.test", "z@a.test" }, report.Recipients.Select(r => r.Address));
        Assert.Equal("mx.a.test", report.Recipients[0].MxHost);
        Assert.Equal(addressB, report.Recipients[1].ServerAddress);
        Assert.Equal(250, report.Recipients[2].Reply!.Code);
        Assert.Single(a.Messages);
        Assert.Single(b.Messages);
        Assert.Equal(new[] { "RCPT TO:<x@a.test>", "RCPT TO:<z@a.test>" }, a.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
        Assert.Equal(1, resolver.Queries("a.test"));
    }

    [Fact]
    public async Task Refused_connection_at_the_preferred_MX_falls_back_to_the_next_one()
    {
        var backup = new SmtpDialogue();
        var dead = NewAddress();
        var alive = NewAddress();
        await using var server = ScriptedSmtpServer.Start(backup.RunAsync, new IPEndPoint(alive, Port));
        var resolver = new TableResolver { ["c.test"] = [("mx1.c.test", 10, dead), ("mx2.c.test", 20, alive)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@c.test"), Content());

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx2.c.test", r.MxHost);
        Assert.Equal(2, r.Attempts);
    }

    [Fact]
    public async Task Recipient_deferred_by_RCPT_4xx_is_tried_at_the_next_host_and_the_accepted_one_is_not_sent_twice()
    {
        var first = new SmtpDialogue { Respond = l => l == "RCPT TO:<later@d.test>" ? "451 4.3.0 Try again later" : null };
        var second = new SmtpDialogue();
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["d.test"] = [("mx1.d.test", 10, a1), ("mx2.d.test", 20, a2)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "now@d.test", "later@d.test"), Content());

        Assert.True(report.IsFullyDelivered);
        Assert.Equal("mx1.d.test", report.Recipients[0].MxHost);
        Assert.Equal("mx2.d.test", report.Recipients[1].MxHost);
        Assert.Equal(new[] { "RCPT TO:<now@d.test>", "RCPT TO:<later@d.test>" }, first.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
        Assert.Equal(new[] { "RCPT TO:<later@d.test>" }, second.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Recipient_refused_temporarily_by_every_host_is_deferred_with_the_last_hosts_reply()
    {
        var first = new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "450 4.2.1 first says later" : null };
        var second = new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "451 4.4.1 second says later" : null };
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["e.test"] = [("mx1.e.test", 10, a1), ("mx2.e.test", 20, a2)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRetryAttempts = 1), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@e.test"), Content());

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal("4.4.1 second says later", r.Reply!.Text);
        Assert.Equal("mx2.e.test", r.MxHost);
        Assert.Equal(4, r.Attempts); // two hosts, one retry round
    }

    [Fact]
    public async Task Permanent_refusal_is_never_retried_or_tried_elsewhere()
    {
        var first = new SmtpDialogue { Respond = l => l.StartsWith("MAIL", StringComparison.Ordinal) ? "550 5.7.1 Sender refused" : null };
        var second = new SmtpDialogue();
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["f.test"] = [("mx1.f.test", 10, a1), ("mx2.f.test", 20, a2)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRetryAttempts = 3), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@f.test"), Content());

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(0, s2.Accepted);
        Assert.True(r.IsPolicyRejection);
        Assert.NotNull(r.Hint);
    }

    [Fact]
    public async Task Gmail_style_421_4_7_0_is_a_policy_rejection_that_is_not_retried()
    {
        const string gmail = "421-4.7.0 This message does not have authentication information or fails to\r\n421 4.7.0 pass authentication checks (SPF or DKIM). To best protect our users from spam.";
        var server = new SmtpDialogue { DataAccepted = gmail };
        var a1 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(server.RunAsync, new IPEndPoint(a1, Port));
        var resolver = new TableResolver { ["g.test"] = [("mx.g.test", 5, a1)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRetryAttempts = 2), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@g.test"), Content());

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.True(r.IsPolicyRejection);
        Assert.Contains("SPF", r.Hint, StringComparison.Ordinal);
        Assert.Equal(1, s1.Accepted);
    }

    [Fact]
    public async Task Private_targets_are_refused_by_default_and_no_connection_is_made()
    {
        // Stops: an attacker who controls a recipient domain's DNS pointing its MX at the sender's own network.
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["h.test"] = [("mx.h.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(o => o.AllowPrivateTargets = false), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@h.test"), Content());

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.True(r.Reply!.IsSynthetic);
        Assert.Equal(new EnhancedStatusCode(5, 4, 4), r.Reply.EnhancedStatusCode);
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task Unresolvable_domain_fails_or_defers_by_the_kind_of_DNS_failure()
    {
        var resolver = new TableResolver();
        resolver.Failures["gone.test"] = MxResolution.FromFailure("gone.test", MxResolutionStatus.DomainNotFound, "no such domain");
        resolver.Failures["flaky.test"] = MxResolution.FromFailure("flaky.test", MxResolutionStatus.DnsFailure, "SERVFAIL");
        resolver.Failures["nullmx.test"] = MxResolution.FromFailure("nullmx.test", MxResolutionStatus.NullMx, "null MX");
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@gone.test", "b@flaky.test", "c@nullmx.test"), Content());

        Assert.Equal(DeliveryStatus.Failed, report.Recipients[0].Status);
        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[1].Status);
        Assert.Equal(DeliveryStatus.Failed, report.Recipients[2].Status);
        Assert.Equal(556, report.Recipients[2].Reply!.Code);
        Assert.Equal(new EnhancedStatusCode(5, 1, 10), report.Recipients[2].Reply!.EnhancedStatusCode);
        Assert.All(report.Recipients, r => Assert.Equal(0, r.Attempts));
    }

    [Fact]
    public async Task More_than_the_transaction_limit_goes_as_several_transactions_on_one_connection()
    {
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["many.test"] = [("mx.many.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRecipientsPerTransaction = 100), resolver);
        var recipients = Enumerable.Range(0, 250).Select(i => $"user{i}@many.test").ToArray();

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", recipients), Content());

        Assert.True(report.IsFullyDelivered);
        Assert.Equal(1, server.Accepted);
        Assert.Equal(3, dialogue.Messages.Count);
        Assert.Equal(250, dialogue.Commands.Count(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Connections_are_pooled_across_sends()
    {
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["pool.test"] = [("mx.pool.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        for (var i = 0; i < 20; i++)
        {
            var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", $"u{i}@pool.test"), Content());
            Assert.True(report.IsFullyDelivered);
        }

        Assert.Equal(1, server.Accepted);
        Assert.Equal(20, dialogue.Messages.Count);
    }

    [Fact]
    public async Task Host_that_answered_421_is_left_alone_by_the_next_send()
    {
        var dialogue = new SmtpDialogue { Greeting = "421 4.3.2 Too busy, try later" };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["busy.test"] = [("mx.busy.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(o => o.MaxRetryAttempts = 2), resolver);

        var first = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@busy.test"), Content());
        var second = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "y@busy.test"), Content());

        Assert.Equal(DeliveryStatus.Deferred, first.Recipients[0].Status);
        Assert.Equal(421, first.Recipients[0].Reply!.Code);
        Assert.Equal(DeliveryStatus.Deferred, second.Recipients[0].Status);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Every_connection_timing_out_is_diagnosed_as_port_25_blocked()
    {
        // A listener whose accept queue is full: the kernel drops further SYNs, as a firewall that blocks port 25 does.
        var address = NewAddress();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, Port));
        listener.Listen(0);
        var fillers = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _ = filler.ConnectAsync(new IPEndPoint(address, Port));
            fillers.Add(filler);
        }

        await Task.Delay(100);
        var resolver = new TableResolver { ["blocked.test"] = [("mx.blocked.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(o => o.Timeouts.Connect = TimeSpan.FromMilliseconds(300)), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@blocked.test"), Content());

        foreach (var f in fillers)
        {
            f.Dispose();
        }

        Assert.Equal(DeliveryStatus.Deferred, report.Recipients[0].Status);
        Assert.Contains(report.Diagnostics, d => d.Contains("port 10125 is probably blocked", StringComparison.Ordinal));
        Assert.Contains("probably blocked", report.Recipients[0].Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureDelivered_throws_a_DeliveryException_listing_what_was_not_delivered()
    {
        var dialogue = new SmtpDialogue { Respond = l => l == "RCPT TO:<nobody@i.test>" ? "550 5.1.1 nobody here" : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["i.test"] = [("mx.i.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "someone@i.test", "nobody@i.test"), Content());

        var e = Assert.Throws<DeliveryException>(() => report.EnsureDelivered());
        Assert.Contains("1 of 2 recipients were not delivered", e.Message, StringComparison.Ordinal);
        Assert.Contains("nobody@i.test: Failed (550 5.1.1 nobody here) via mx.i.test", e.Message, StringComparison.Ordinal);
        Assert.Same(report, e.Report);
    }

    [Fact]
    public async Task Cancellation_throws_with_the_report_so_far()
    {
        var dialogue = new SmtpDialogue { Respond = l => l.StartsWith("MAIL", StringComparison.Ordinal) ? SmtpDialogue.Silent : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["slow.test"] = [("mx.slow.test", 10, address)] };
        await using var mailer = new DirectMailer(Options(o => o.Timeouts.MailFrom = TimeSpan.FromSeconds(30)), resolver);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAsync<DeliveryCanceledException>(() => mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@slow.test"), Content(), cts.Token));

        Assert.Equal(DeliveryStatus.Deferred, Assert.Single(e.Report.Recipients).Status);
        Assert.Contains("canceled", e.Report.Recipients[0].Detail, StringComparison.Ordinal);
    }
}
