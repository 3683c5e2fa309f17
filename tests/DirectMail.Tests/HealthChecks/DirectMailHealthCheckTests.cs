using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.HealthChecks;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DirectMail.Tests.HealthChecks;

/// <summary>
/// AddDirectMailHealthCheck through the framework's HealthCheckService, as an endpoint runs it: port 25 open (a real
/// loopback listener, probed once per interval and sent nothing), blocked (a blackhole), the resolver answering (NSD)
/// or dead (no name server at the address), and a queue with entries past its thresholds.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DirectMailHealthCheckTests : IClassFixture<DeliveryDnsFixture>
{
    private const int OpenPort = 10176;
    private static readonly IPAddress OpenAddress = IPAddress.Parse("127.0.76.11");
    private static readonly IPAddress BlackholeAddress = IPAddress.Parse("127.0.76.12");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static ServiceProvider Build(IMxResolver resolver, int port, Action<DirectMailHealthCheckOptions> configure, TimeProvider? time = null, IMailQueue? queue = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(resolver);
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        if (queue is not null)
        {
            services.AddSingleton(queue);
        }

        services.AddDirectMail(o =>
        {
            o.HeloName = "client.test.example";
            o.Port = port;
            o.AllowPrivateTargets = true;
        });
        services.AddHealthChecks().AddDirectMailHealthCheck(configure);
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> CheckAsync(ServiceProvider services)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(Bound);
        return report.Entries["directmail"];
    }

    [Fact]
    public async Task Port_25_open_is_healthy_and_probed_once_per_interval_without_sending_anything()
    {
        using var listener = new TcpListener(OpenAddress, OpenPort);
        listener.Start();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-05T10:00:00Z"));
        var resolver = new TableResolver { ["probe.test"] = [("mx.probe.test", 10, OpenAddress)] };
        await using var services = Build(resolver, OpenPort, o => o.Port25ProbeDomain = "probe.test", time);

        var first = await CheckAsync(services);
        var again = await CheckAsync(services);
        var third = await CheckAsync(services);

        Assert.Equal(HealthStatus.Healthy, first.Status);
        Assert.Equal("DirectMail can deliver.", first.Description);
        Assert.Equal("open", first.Data["port25"]);
        Assert.Equal("ok", first.Data["resolver"]);
        Assert.StartsWith($"Connected to mx.probe.test ({OpenAddress}) port {OpenPort} in ", (string)first.Data["port25.detail"], StringComparison.Ordinal);
        Assert.Equal("2026-01-05T10:00:00.0000000+00:00", first.Data["port25.checked_at"]);
        Assert.Equal(first.Data["port25.checked_at"], third.Data["port25.checked_at"]);
        Assert.Equal(HealthStatus.Healthy, again.Status);

        // One connection for three checks, and the probe sent nothing on it: the client's end closes with no byte.
        using (var accepted = await listener.AcceptSocketAsync().WaitAsync(Bound))
        {
            var buffer = new byte[64];
            Assert.Equal(0, await accepted.ReceiveAsync(buffer).WaitAsync(Bound));
        }

        Assert.False(listener.Pending());

        // Past the interval: probed again, once.
        time.Advance(TimeSpan.FromMinutes(5));
        var later = await CheckAsync(services);
        Assert.Equal("2026-01-05T10:05:00.0000000+00:00", later.Data["port25.checked_at"]);
        using var second = await listener.AcceptSocketAsync().WaitAsync(Bound);
        Assert.Equal(6, resolver.Queries("probe.test")); // a resolver look-up per check (4), one per probe (2)
    }

    [Fact]
    public async Task Port_25_blackholed_is_unhealthy()
    {
        using var blackhole = new BlackholeListener(BlackholeAddress);
        var resolver = new TableResolver { ["probe.test"] = [("mx.blackhole.test", 10, BlackholeAddress)] };
        await using var services = Build(resolver, blackhole.EndPoint.Port, o =>
        {
            o.Port25ProbeDomain = "probe.test";
            o.Port25Timeout = TimeSpan.FromSeconds(1);
        });

        var entry = await CheckAsync(services);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("blocked", entry.Data["port25"]);
        var detail = $"Could not connect to mx.blackhole.test ({BlackholeAddress}) port {blackhole.EndPoint.Port}: no answer within 1 s. Outbound port 25 looks blocked; many cloud and residential networks block it. Ask the provider to open it, or deliver through a relay that accepts mail on port 587.";
        Assert.Equal(detail, entry.Data["port25.detail"]);
        Assert.Equal(detail, entry.Description);
    }

    [Fact]
    public async Task A_resolver_that_answers_is_healthy()
    {
        var resolver = new MxResolver(new MxResolverOptions { NameServers = [DeliveryDnsFixture.EndPoint], QueryTimeout = TimeSpan.FromSeconds(2), Retries = 1 });
        await using var services = Build(resolver, 25, o => o.ResolverProbeDomain = "alpha.deliver.test");

        var entry = await CheckAsync(services);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(new Dictionary<string, object> { ["resolver.domain"] = "alpha.deliver.test", ["resolver"] = "ok" }, entry.Data);
    }

    [Fact]
    public async Task A_dead_resolver_is_degraded()
    {
        var resolver = new MxResolver(new MxResolverOptions { NameServers = [new IPEndPoint(IPAddress.Parse("127.0.76.99"), 10053)], QueryTimeout = TimeSpan.FromMilliseconds(500), Retries = 0 });
        await using var services = Build(resolver, 25, o => o.ResolverProbeDomain = "alpha.deliver.test");

        var entry = await CheckAsync(services);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal("failed", entry.Data["resolver"]);
        Assert.StartsWith("The resolver failed to look up alpha.deliver.test: ", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_with_entries_reports_its_state_and_is_degraded_past_the_thresholds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-05T10:00:00Z"));
        var queue = new MailQueue(new InMemoryQueueStore(), new MailQueueOptions(), null, time);
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net", "c@example.org"), SmtpContent.FromBytes("Subject: x\r\n\r\nbody\r\n"u8.ToArray()));
        time.Advance(TimeSpan.FromHours(1));
        var held = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "d@example.net"), SmtpContent.FromBytes("Subject: y\r\n\r\nbody\r\n"u8.ToArray()));
        Assert.Equal(1, await queue.HoldAsync(held));
        await using var services = Build(new TableResolver(), 25, o => o.MaxHeld = 0, time, queue);

        var fresh = await CheckAsync(services);
        Assert.Equal(HealthStatus.Degraded, fresh.Status);
        Assert.Equal("1 recipients are held (more than 0).", fresh.Description);
        Assert.Equal(
            new Dictionary<string, object> { ["queue.depth"] = 3L, ["queue.messages"] = 2L, ["queue.held"] = 1L, ["queue.in_doubt"] = 0L, ["queue.oldest_pending_age_seconds"] = 3600d },
            fresh.Data);

        // Five hours after the first enqueue: older than MaxOldestPendingAge (4 h) too.
        time.Advance(TimeSpan.FromHours(4));
        var old = await CheckAsync(services);
        Assert.Equal(HealthStatus.Degraded, old.Status);
        Assert.Equal(18000d, old.Data["queue.oldest_pending_age_seconds"]);
        Assert.Equal("The oldest queued message is 5:00:00 old (more than 4:00:00). 1 recipients are held (more than 0).", old.Description);
    }
}
