using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Smtp;
using DirectMail.Tests.Dns;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// Fallback, pooling and concurrency faults from the outside review of issue 10, against scripted servers on
/// 127.0.33.x (a range of their own) with a resolver that answers from a table.
/// </summary>
public sealed class DeliveryReviewTests
{
    private const int Port = 10133;
    private static int _nextAddress = 10;

    private static readonly byte[] Ascii = "Subject: hi\r\n\r\nHello.\r\n"u8.ToArray();

    /// <summary>A fresh loopback address per server, so tests running at once never share one.</summary>
    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.33.{Interlocked.Increment(ref _nextAddress)}");

    private static DirectMailOptions ReviewOptions(Action<DirectMailOptions>? configure = null) => LoopbackMailerOptions.Create(Port, o =>
    {
        o.SendTimeout = TimeSpan.FromSeconds(20);
        configure?.Invoke(o);
    });

    private const string EhloWithoutUtf8 = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES";

    private const string EhloSevenBitOnly = "250-mx.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES";

    // ---- Item 6: a local refusal at one MX is not the last word --------------------------------------------------

    [Fact]
    public async Task A_sender_needing_SMTPUTF8_refused_locally_by_the_first_MX_is_delivered_by_the_second()
    {
        // Stops: a message Failed 5.6.7 at the first MX that lacks SMTPUTF8 while the backup offers it.
        var first = new SmtpDialogue { EhloReply = EhloWithoutUtf8 };
        var second = new SmtpDialogue();
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["u.test"] = [("mx1.u.test", 10, a1), ("mx2.u.test", 20, a2)] };
        await using var mailer = new DirectMailer(ReviewOptions(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("jörg@client.test", "x@u.test"), SmtpContent.FromBytes(Ascii));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx2.u.test", r.MxHost);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(1, s1.Accepted);
        Assert.DoesNotContain(first.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal)); // nothing was sent there
        Assert.Contains(second.Commands, c => c.StartsWith("MAIL FROM:<jörg@client.test>", StringComparison.Ordinal) && c.Contains("SMTPUTF8", StringComparison.Ordinal));
        Assert.Equal(Ascii, Assert.Single(second.Messages));
    }

    [Fact]
    public async Task Eight_bit_content_refused_locally_by_a_7bit_MX_is_delivered_by_the_next_one()
    {
        // Stops: 8-bit content Failed 5.6.3 at an MX without 8BITMIME while the backup offers it.
        var first = new SmtpDialogue { EhloReply = EhloSevenBitOnly };
        var second = new SmtpDialogue();
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["e.test"] = [("mx1.e.test", 10, a1), ("mx2.e.test", 20, a2)] };
        await using var mailer = new DirectMailer(ReviewOptions(), resolver);
        var content = Encoding.UTF8.GetBytes("Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße.\r\n");

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@e.test"), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx2.e.test", r.MxHost);
        Assert.DoesNotContain(first.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
        Assert.Contains(second.Commands, c => c.StartsWith("MAIL FROM:<me@client.test>", StringComparison.Ordinal) && c.Contains("BODY=8BITMIME", StringComparison.Ordinal));
        Assert.Equal(content, Assert.Single(second.Messages));
    }

    [Fact]
    public async Task A_local_refusal_by_every_MX_fails_with_that_refusal_after_trying_each()
    {
        var first = new SmtpDialogue { EhloReply = EhloWithoutUtf8 };
        var second = new SmtpDialogue { EhloReply = EhloWithoutUtf8 };
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["n.test"] = [("mx1.n.test", 10, a1), ("mx2.n.test", 20, a2)] };
        await using var mailer = new DirectMailer(ReviewOptions(o => o.MaxRetryAttempts = 2), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("jörg@client.test", "x@n.test"), SmtpContent.FromBytes(Ascii));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal(553, r.Reply!.Code);
        Assert.True(r.Reply.IsSynthetic);
        Assert.Equal(new EnhancedStatusCode(5, 6, 7), r.Reply.EnhancedStatusCode);
        Assert.Equal("mx2.n.test", r.MxHost);
        Assert.Equal(2, r.Attempts); // each MX once; a permanent refusal is not retried in a later round
        Assert.Equal(1, s1.Accepted);
        Assert.Equal(1, s2.Accepted);
    }

    [Fact]
    public async Task A_local_refusal_at_one_MX_and_a_4xx_at_the_other_is_Deferred_with_the_4xx()
    {
        // The MX that deferred may take the message later: the recipient is not Failed for what the other one lacks.
        var first = new SmtpDialogue
        {
            Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "451 4.3.0 <x@m.test>: Temporary lookup failure" : null,
        };
        var second = new SmtpDialogue { EhloReply = EhloWithoutUtf8 };
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(first.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(second.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["m.test"] = [("mx1.m.test", 10, a1), ("mx2.m.test", 20, a2)] };
        await using var mailer = new DirectMailer(ReviewOptions(), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("jörg@client.test", "x@m.test"), SmtpContent.FromBytes(Ascii));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal("451 4.3.0 <x@m.test>: Temporary lookup failure", r.Reply!.ToString());
        Assert.Equal("mx1.m.test", r.MxHost);
        Assert.Equal(1, s2.Accepted);
    }

    // ---- Item 7: the NOOP probe of a pooled connection has a timeout of its own -------------------------------------

    [Fact]
    public async Task A_pooled_connection_silent_on_NOOP_is_dropped_after_the_probe_timeout_and_a_fresh_one_delivers()
    {
        // Stops: a reused connection whose peer went silent holding the send for the 5-minute command timeout.
        var dialogue = new SmtpDialogue { Respond = l => l.StartsWith("NOOP", StringComparison.Ordinal) ? SmtpDialogue.Silent : null };
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["p.test"] = [("mx.p.test", 10, address)] };
        await using var mailer = new DirectMailer(
            ReviewOptions(o =>
            {
                o.Timeouts.Command = TimeSpan.FromMinutes(2);
                o.PooledConnectionProbeAfter = TimeSpan.Zero;
                o.PooledConnectionProbeTimeout = TimeSpan.FromMilliseconds(300);
                o.SendTimeout = TimeSpan.FromSeconds(10); // far below the command timeout
            }),
            resolver);

        var first = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@p.test"), SmtpContent.FromBytes(Ascii));
        var second = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "b@p.test"), SmtpContent.FromBytes(Ascii));

        Assert.True(first.IsFullyDelivered, string.Join("; ", first.Recipients));
        Assert.True(second.IsFullyDelivered, string.Join("; ", second.Recipients));
        Assert.Equal(1, dialogue.Commands.Count(c => c == "NOOP")); // the pooled connection was probed once
        Assert.Equal(2, server.Accepted);                            // and the second message went on a fresh one
        Assert.Equal(2, dialogue.Messages.Count);
    }

    [Fact]
    public void The_probe_timeout_must_be_positive()
    {
        var e = Assert.Throws<ArgumentException>(() => ReviewOptions(o => o.PooledConnectionProbeTimeout = TimeSpan.Zero).Validate());
        Assert.Equal(nameof(DirectMailOptions.PooledConnectionProbeTimeout), e.ParamName);
        Assert.Equal(TimeSpan.FromSeconds(20), new DirectMailOptions().PooledConnectionProbeTimeout);
    }

    // ---- Item 10: the TLS-to-plaintext candidate is added once -----------------------------------------------------

    [Fact]
    public async Task A_failed_TLS_handshake_falls_back_to_plaintext_once_per_round_not_once_more_each_round()
    {
        // Stops: a fifth attempt (the plaintext candidate inserted again on the retry round).
        var starttls = 0;
        var mails = 0;
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(
            async c =>
            {
                await c.ReplyAsync("220 mx.test ESMTP");
                await c.ExpectAsync("EHLO");
                await c.ReplyAsync("250-mx.test\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS");
                while (await c.ReadLineAsync() is { } line)
                {
                    var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line;
                    switch (verb)
                    {
                        case "STAR":
                            Interlocked.Increment(ref starttls);
                            await c.ReplyAsync("220 2.0.0 Ready to start TLS");
                            await c.SendAsync("this is not a TLS record\r\n\r\n");
                            return; // the handshake fails
                        case "MAIL":
                            Interlocked.Increment(ref mails);
                            await c.ReplyAsync("250 2.1.0 Ok");
                            break;
                        case "RCPT":
                            await c.ReplyAsync("451 4.3.0 Temporary lookup failure");
                            break;
                        case "QUIT":
                            await c.ReplyAsync("221 2.0.0 Bye");
                            return;
                        default:
                            await c.ReplyAsync("250 2.0.0 Ok");
                            break;
                    }
                }
            },
            new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["t.test"] = [("mx.t.test", 10, address)] };
        await using var mailer = new DirectMailer(
            ReviewOptions(o =>
            {
                o.TlsMode = SmtpTlsMode.Opportunistic;
                o.MaxRetryAttempts = 1;
                o.PooledConnectionIdleTimeout = TimeSpan.FromTicks(1); // no reuse: every attempt is a connection
            }),
            resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@t.test"), SmtpContent.FromBytes(Ascii));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(451, r.Reply!.Code);
        Assert.Equal(4, r.Attempts);               // two rounds of (TLS, plaintext)
        Assert.Equal(4, server.Accepted);
        Assert.Equal(2, Volatile.Read(ref starttls));
        Assert.Equal(2, Volatile.Read(ref mails));
    }

    // ---- Item 18: slow servers do not starve everyone ---------------------------------------------------------------

    [Fact]
    public async Task A_responsive_domain_is_delivered_while_tarpit_domains_hold_every_concurrency_slot()
    {
        // Stops: domains whose MX never answers holding the MaxConcurrentDomains slots for the whole SendTimeout, so
        // that an unrelated send waits and is canceled without ever connecting.
        var release = new TaskCompletionSource();
        var mute = NewAddress();
        var dead = NewAddress();
        var good = NewAddress();
        var dialogue = new SmtpDialogue();
        await using var tarpit = ScriptedSmtpServer.Start(_ => release.Task, TestAddresses.Delivery.EndPoint(mute)); // accepts, never greets
        using var blackhole = new BlackholeListener(dead);                                                 // never accepts
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, TestAddresses.Delivery.EndPoint(good));
        var resolver = new TableResolver
        {
            ["mute.test"] = [("mx.mute.test", 10, mute)],
            ["dead.test"] = [("mx.dead.test", 10, dead)],
            ["good.test"] = [("mx.good.test", 10, good)],
        };
        await using var mailer = new DirectMailer(
            ReviewOptions(o =>
            {
                o.Port = TestAddresses.Delivery.Port;
                o.MaxConcurrentDomains = 2;
                o.Timeouts.Connect = TimeSpan.FromMinutes(1);
                o.Timeouts.Greeting = TimeSpan.FromMinutes(1);
                o.SendTimeout = TimeSpan.FromMinutes(2);
            }),
            resolver);
        using var stopTarpits = new CancellationTokenSource();

        var muteSend = mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@mute.test"), SmtpContent.FromBytes(Ascii), stopTarpits.Token);
        var deadSend = mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@dead.test"), SmtpContent.FromBytes(Ascii), stopTarpits.Token);
        for (var i = 0; i < 200 && tarpit.Accepted == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, tarpit.Accepted);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // the caller's own deadline, far below the tarpits' timeouts
        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "y@good.test"), SmtpContent.FromBytes(Ascii), deadline.Token);

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal("mx.good.test", r.MxHost);
        Assert.Single(dialogue.Messages);
        Assert.False(muteSend.IsCompleted); // the tarpits are still being tried
        Assert.False(deadSend.IsCompleted);

        // And they hold no slot while they wait: each gives its slot back once its connect has been slow for 2 s
        // (the later one may still be within its 2 s on a loaded machine, so this waits for it, bounded).
        for (var i = 0; i < 1000 && mailer.Delivery.SessionSlots.CurrentCount < 2; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(2, mailer.Delivery.SessionSlots.CurrentCount);
        Assert.False(muteSend.IsCompleted);
        Assert.False(deadSend.IsCompleted);

        stopTarpits.Cancel();
        release.SetResult();
        var muted = await Assert.ThrowsAsync<DeliveryCanceledException>(() => muteSend);
        await Assert.ThrowsAsync<DeliveryCanceledException>(() => deadSend);
        Assert.Equal(DeliveryStatus.Deferred, Assert.Single(muted.Report.Recipients).Status);
    }

    [Fact]
    public async Task Sessions_at_work_never_exceed_MaxConcurrentDomains()
    {
        // The limit still holds for connected sessions: with one slot, two domains' transactions never overlap.
        var inData = 0;
        var maxInData = 0;
        var dialogue = new SmtpDialogue
        {
            RespondAsync = async l =>
            {
                if (l == "DATA")
                {
                    var now = Interlocked.Increment(ref inData);
                    InterlockedMax(ref maxInData, now);
                    await Task.Delay(200); // a slow server: an overlap, if any, would be seen
                }
                else if (l == "<end-of-data>")
                {
                    Interlocked.Decrement(ref inData);
                }

                return null;
            },
        };
        var a1 = NewAddress();
        var a2 = NewAddress();
        await using var s1 = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(a1, Port));
        await using var s2 = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(a2, Port));
        var resolver = new TableResolver { ["one.test"] = [("mx.one.test", 10, a1)], ["two.test"] = [("mx.two.test", 10, a2)] };
        await using var mailer = new DirectMailer(ReviewOptions(o => o.MaxConcurrentDomains = 1), resolver);

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@one.test", "y@two.test"), SmtpContent.FromBytes(Ascii));

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(2, dialogue.Messages.Count);
        Assert.Equal(1, Volatile.Read(ref maxInData));
        Assert.Equal(1, mailer.Delivery.SessionSlots.CurrentCount);
    }

    // ---- Item 19: the pool forgets idle hosts ------------------------------------------------------------------------

    [Fact]
    public async Task The_pool_forgets_hosts_once_their_idle_connections_are_pruned_and_then_stops_its_timer()
    {
        // Stops: one pool entry kept forever per MX name ever seen (2,000 MX names, 2,000 entries).
        const int Hosts = 20;
        var dialogue = new SmtpDialogue();
        var address = NewAddress();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(address, Port));
        var resolver = new TableResolver { ["refused.test"] = [("mx.refused.test", 10, NewAddress())] };
        var recipients = new List<string>();
        for (var i = 0; i < Hosts; i++)
        {
            resolver[$"d{i}.test"] = [($"mx.d{i}.test", 10, address)];
            recipients.Add($"x@d{i}.test");
        }

        recipients.Add("x@refused.test");
        var clock = new FakeTimeProvider();
        await using var mailer = new DirectMailer(ReviewOptions(), resolver, timeProvider: clock);
        Assert.False(mailer.Delivery.Pool.IsPruneTimerArmed); // nothing pooled yet: no timer

        var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", [.. recipients]), SmtpContent.FromBytes(Ascii));

        Assert.Equal(Hosts, report.DeliveredCount);
        Assert.Equal(Hosts, mailer.Delivery.Pool.HostCount); // the refused host is not kept: it has no connection
        Assert.True(mailer.Delivery.Pool.IsPruneTimerArmed);

        clock.Advance(TimeSpan.FromSeconds(31)); // past PooledConnectionIdleTimeout
        mailer.Delivery.Pool.Prune();

        Assert.Equal(0, mailer.Delivery.Pool.HostCount);
        Assert.False(mailer.Delivery.Pool.IsPruneTimerArmed);
        for (var i = 0; i < 200 && server.Open > 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, server.Open);
        Assert.Equal(Hosts, dialogue.Commands.Count(c => c == "QUIT"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

/// <summary>The review items that need the delivery NSD (the real resolver) or the real greylisting server.</summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeliveryReviewDnsTests
{
    // ---- Item 9: private addresses are dropped before the address budget is counted -----------------------------------

    [Fact]
    public async Task Private_addresses_of_the_first_MX_do_not_use_up_the_address_budget_of_a_public_backup()
    {
        // Stops: five private addresses of the preferred MX filling MaxAddressesPerDomain, so that the public backup
        // vanished and the recipient was Failed 5.4.4. No connection is made: the test reads the candidate list.
        await using var mailer = NewMailer(o => o.AllowPrivateTargets = false);

        var resolution = await mailer.Delivery.Resolver.ResolveAsync("budget.deliver.test");
        var candidates = new List<DomainDelivery.Candidate>();
        DomainDelivery.ChooseCandidates(resolution, mailer.Delivery, "budget.deliver.test", candidates);

        Assert.True(resolution.IsSuccess, resolution.Message);
        var c = Assert.Single(candidates);
        Assert.Equal("mx2.budget.deliver.test", c.Host);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("11.0.0.1"), TestAddresses.Delivery.Port), c.EndPoint);
    }

    [Fact]
    public async Task With_private_targets_allowed_the_budget_counts_every_address_in_order()
    {
        await using var mailer = NewMailer(o => o.MaxAddressesPerDomain = 5);

        var resolution = await mailer.Delivery.Resolver.ResolveAsync("budget.deliver.test");
        var candidates = new List<DomainDelivery.Candidate>();
        DomainDelivery.ChooseCandidates(resolution, mailer.Delivery, "budget.deliver.test", candidates);

        Assert.Equal(5, candidates.Count);
        Assert.All(candidates, c => Assert.Equal("mx1.budget.deliver.test", c.Host));
    }

    // ---- Item 25: routine outcomes are not logged as problems ---------------------------------------------------------

    [Fact]
    public async Task A_greylisted_recipient_deferred_after_a_retry_logs_no_warning_or_error()
    {
        // Stops: Polly's "warning:" and "error:" lines in `directmail send -v` for one greylisted recipient.
        using var greylist = new GreylistServer(TestAddresses.Delivery.Greylist, TimeSpan.FromSeconds(60));
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        await using var mailer = new DirectMailer(
            Options(o =>
            {
                o.MaxRetryAttempts = 1;
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
            }),
            loggerFactory: factory);
        var recipient = $"grey-{Guid.NewGuid():N}@greylist.deliver.test";

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(Message("greylisted")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(450, r.Reply!.Code);
        Assert.Equal(2, r.Attempts);
        var entries = logs.Logger.Snapshot();
        Assert.Contains(entries, e => e.Category.StartsWith("Polly", StringComparison.Ordinal) && e.Message.Contains("OnRetry", StringComparison.Ordinal) && e.Level == LogLevel.Information);
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Falling_back_to_the_next_MX_is_logged_at_debug_level()
    {
        // The preferred MX of refused.deliver.test refuses connections; its backup defers the recipient.
        var backup = Postfix(l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "450 4.2.0 Greylisted" : null);
        await using var server = ScriptedSmtpServer.Start(backup.RunAsync, TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.RefusedBackup));
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        await using var mailer = new DirectMailer(Options(), loggerFactory: factory);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@refused.deliver.test"), SmtpContent.FromBytes(Message("fallback")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal("mx2.refused.deliver.test", r.MxHost);
        var entries = logs.Logger.Snapshot();
        // The walk over the MX addresses is the delivery's own loop, not a Polly strategy: it logs the fallback itself.
        Assert.Contains(entries, e => e.Category == "DirectMail.Delivery" && e.Message.Contains("after mx1.refused.deliver.test", StringComparison.Ordinal) && e.Message.Contains("trying the next MX address", StringComparison.Ordinal) && e.Level == LogLevel.Debug);
        Assert.DoesNotContain(entries, e => e.Category.StartsWith("Polly", StringComparison.Ordinal) && e.Message.Contains("MxFallback", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Warning);
    }
}

/// <summary>The 421 backoff list forgets addresses whose backoff is over (it kept every address that ever said 421).</summary>
public sealed class HostBackoffTests
{
    [Fact]
    public void Marking_an_address_forgets_those_whose_backoff_is_over()
    {
        var clock = new FakeTimeProvider();
        var backoff = new HostBackoff(clock, TimeSpan.FromMinutes(1));
        for (var i = 0; i < 100; i++)
        {
            backoff.Mark(new IPEndPoint(IPAddress.Parse($"127.0.33.{i}"), 25));
        }

        Assert.Equal(100, backoff.Count);
        clock.Advance(TimeSpan.FromSeconds(61));
        var last = new IPEndPoint(IPAddress.Parse("127.0.34.1"), 25);
        backoff.Mark(last);

        Assert.Equal(1, backoff.Count);
        Assert.True(backoff.IsBackingOff(last));
        Assert.False(backoff.IsBackingOff(new IPEndPoint(IPAddress.Parse("127.0.33.1"), 25)));
    }
}
