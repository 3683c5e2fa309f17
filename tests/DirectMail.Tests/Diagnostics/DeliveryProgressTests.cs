using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Diagnostics;

/// <summary>
/// IProgress&lt;DeliveryProgress&gt; on a send: every recipient of a multi-domain send settles exactly once, with the
/// status the report gives it, and every domain is resolved and settled once.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DeliveryProgressTests
{
    private const int Port = 10174;
    private static int _nextAddress = 10;

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.74.{Interlocked.Increment(ref _nextAddress)}");

    private static SmtpContent Content() => SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray());

    /// <summary>Collects the reports as they come (no synchronization context: Report is called on the delivery's thread).</summary>
    private sealed class Collector : IProgress<DeliveryProgress>
    {
        public ConcurrentQueue<DeliveryProgress> Reports { get; } = new();

        public void Report(DeliveryProgress value) => Reports.Enqueue(value);
    }

    [Fact]
    public async Task Every_recipient_of_a_multi_domain_send_is_reported_once_with_the_reports_status()
    {
        // a.test: one delivered, one refused at RCPT (550); b.test: deferred at RCPT (451); c.test: no such domain.
        var a = new SmtpDialogue { Respond = l => l == "RCPT TO:<nobody@a.test>" ? "550 5.1.1 No such user" : null };
        var b = new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "451 4.3.0 Later" : null };
        var addressA = NewAddress();
        var addressB = NewAddress();
        await using var serverA = ScriptedSmtpServer.Start(a.RunAsync, new IPEndPoint(addressA, Port));
        await using var serverB = ScriptedSmtpServer.Start(b.RunAsync, new IPEndPoint(addressB, Port));
        var resolver = new TableResolver { ["a.test"] = [("mx.a.test", 10, addressA)], ["b.test"] = [("mx.b.test", 10, addressB)] };
        resolver.Failures["c.test"] = MxResolution.FromFailure("c.test", MxResolutionStatus.DomainNotFound, "c.test does not exist.");
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), resolver);
        var progress = new Collector();

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@a.test", "y@b.test", "nobody@a.test", "z@c.test"), Content(), progress);

        var reports = progress.Reports.ToArray();
        var settled = reports.Where(p => p.Kind == DeliveryProgressKind.RecipientSettled).ToArray();
        Assert.Equal(
            report.Recipients.Select(r => (r.Address, r.Status)).OrderBy(r => r.Address, StringComparer.Ordinal),
            settled.Select(p => (p.Recipient!.Address, p.Recipient.Status)).OrderBy(r => r.Address, StringComparer.Ordinal));
        Assert.Equal(
            new[] { ("nobody@a.test", DeliveryStatus.Failed), ("x@a.test", DeliveryStatus.Delivered), ("y@b.test", DeliveryStatus.Deferred), ("z@c.test", DeliveryStatus.Failed) },
            settled.Select(p => (p.Recipient!.Address, p.Recipient.Status)).OrderBy(r => r.Item1, StringComparer.Ordinal));
        Assert.Equal(new[] { "a.test", "a.test", "b.test", "c.test" }, settled.Select(p => p.Domain).OrderBy(d => d, StringComparer.Ordinal));
        Assert.Equal(report.Recipients.Single(r => r.Address == "y@b.test").Reply!.ToString(), settled.Single(p => p.Domain == "b.test").Recipient!.Reply!.ToString());

        // Each domain resolved once (with the resolver's answer), then settled once after its recipients, with their counts.
        var resolved = reports.Where(p => p.Kind == DeliveryProgressKind.DomainResolved).ToDictionary(p => p.Domain);
        Assert.Equal(new[] { "a.test", "b.test", "c.test" }, resolved.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("mx.a.test", resolved["a.test"].Resolution!.Targets.Single().Host);
        Assert.Equal(MxResolutionStatus.DomainNotFound, resolved["c.test"].Resolution!.Status);
        var domains = reports.Where(p => p.Kind == DeliveryProgressKind.DomainSettled).ToDictionary(p => p.Domain, p => (p.Delivered, p.Deferred, p.Failed));
        Assert.Equal(new Dictionary<string, (int, int, int)> { ["a.test"] = (1, 0, 1), ["b.test"] = (0, 1, 0), ["c.test"] = (0, 0, 1) }, domains);
        foreach (var domain in domains.Keys)
        {
            var order = Array.FindIndex(reports, p => p.Kind == DeliveryProgressKind.DomainSettled && p.Domain == domain);
            Assert.True(Array.FindLastIndex(reports, p => p.Kind == DeliveryProgressKind.RecipientSettled && p.Domain == domain) < order);
            Assert.True(Array.FindIndex(reports, p => p.Kind == DeliveryProgressKind.DomainResolved && p.Domain == domain) < order);
        }
    }

    [Fact]
    public async Task Recipients_pending_at_cancellation_are_reported_deferred_once()
    {
        var stall = new SmtpDialogue { Respond = l => l.StartsWith("MAIL", StringComparison.Ordinal) ? SmtpDialogue.Silent : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(stall.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["s.test"] = [("mx.s.test", 10, address)] };
        await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port, o => TestTimeouts.SetAll(o.Timeouts, TimeSpan.FromSeconds(30))), resolver);
        var progress = new Collector();
        using var cancel = new CancellationTokenSource();
        var first = new TaskCompletionSource();
        var watcher = new Watcher(progress, first);

        var send = mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@s.test", "y@s.test"), Content(), watcher, cancel.Token);
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cancel.Cancel();
        var canceled = await Assert.ThrowsAsync<DeliveryCanceledException>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));

        var settled = progress.Reports.Where(p => p.Kind == DeliveryProgressKind.RecipientSettled).Select(p => (p.Recipient!.Address, p.Recipient.Status)).Order().ToArray();
        Assert.Equal(new[] { ("x@s.test", DeliveryStatus.Deferred), ("y@s.test", DeliveryStatus.Deferred) }, settled);
        Assert.Equal(canceled.Report.Recipients.Select(r => (r.Address, r.Status)).Order(), settled);
        var domain = Assert.Single(progress.Reports, p => p.Kind == DeliveryProgressKind.DomainSettled);
        Assert.Equal((0, 2, 0), (domain.Delivered, domain.Deferred, domain.Failed));
    }

    [Fact]
    public async Task The_interfaces_default_method_ignores_progress_and_sends()
    {
        var calls = new List<string>();
        IDirectMailer mailer = new OnlyPlainSend(calls);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@a.test"), Content(), new Collector());

        Assert.Empty(report.Recipients);
        Assert.Equal(new[] { "plain" }, calls);
    }

    private sealed class Watcher(Collector inner, TaskCompletionSource resolved) : IProgress<DeliveryProgress>
    {
        public void Report(DeliveryProgress value)
        {
            inner.Report(value);
            if (value.Kind == DeliveryProgressKind.DomainResolved)
            {
                resolved.TrySetResult();
            }
        }
    }

    private sealed class OnlyPlainSend(List<string> calls) : IDirectMailer
    {
        public Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default)
        {
            calls.Add("plain");
            return Task.FromResult(new DeliveryReport([], TimeSpan.Zero, []));
        }
    }
}
