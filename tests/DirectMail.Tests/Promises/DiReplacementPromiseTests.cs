using System;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Retry;

namespace DirectMail.Tests.Promises;

/// <summary>
/// README, Dependency injection: "a TimeProvider or a ResiliencePipeline&lt;DeliveryAttemptOutcome&gt; registered by the
/// application replaces the default". Observed in deliveries to a loopback server, not read back from the container.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DiReplacementPromiseTests
{
    private const int Port = 10177;
    private static readonly IPAddress Address = IPAddress.Parse("127.0.77.11");

    private static ServiceProvider Provider(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IMxResolver>(new TableResolver { ["di.promise.test"] = [("mx.di.promise.test", 10, Address)] });
        services.AddDirectMail(o =>
        {
            var loopback = LoopbackMailerOptions.Create(Port);
            o.HeloName = loopback.HeloName;
            o.Port = Port;
            o.TlsMode = SmtpTlsMode.None;
            o.AllowPrivateTargets = true;
            o.MaxRetryAttempts = 0;
            o.Timeouts.Connect = loopback.Timeouts.Connect;
            o.Timeouts.Greeting = loopback.Timeouts.Greeting;
            o.Timeouts.Command = loopback.Timeouts.Command;
        });
        register(services);
        return services.BuildServiceProvider();
    }

    private static SmtpContent Content() => SmtpContent.FromBytes("Subject: di\r\n\r\nHello.\r\n"u8.ToArray());

    [Fact]
    public async Task A_registered_resilience_pipeline_is_the_one_a_delivery_runs()
    {
        // Stops: AddDirectMail building its default pipeline (MaxRetryAttempts 0: one attempt) over the application's.
        var dialogue = new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "450 4.2.0 Greylisted" : null };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(Address, Port));
        var retries = 0;
        var pipeline = new ResiliencePipelineBuilder<DeliveryAttemptOutcome>()
            .AddRetry(new RetryStrategyOptions<DeliveryAttemptOutcome>
            {
                MaxRetryAttempts = 2,
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { NextStep: DeliveryNextStep.RetryLater }),
                OnRetry = _ =>
                {
                    Interlocked.Increment(ref retries);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        await using var provider = Provider(s => s.AddSingleton(pipeline));

        var report = await provider.GetRequiredService<IDirectMailer>().SendAsync(new SmtpEnvelope("me@client.test", "grey@di.promise.test"), Content()).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(2, retries);
        Assert.Equal(3, dialogue.Commands.Count(c => c.StartsWith("RCPT TO:<grey@di.promise.test>", StringComparison.Ordinal))); // three attempts at the server, not the default one
        Assert.Equal(3, r.Attempts);
    }

    [Fact]
    public async Task A_registered_TimeProvider_is_the_clock_of_the_421_backoff()
    {
        // Stops: the mailer reading TimeProvider.System instead of the registered clock (the backoff would never end
        // under a fake clock that moves, or end by wall time under one that does not).
        var dialogue = new SmtpDialogue { Greeting = "421 4.7.0 mx.di.promise.test busy" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, new IPEndPoint(Address, Port));
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var provider = Provider(s => s.AddSingleton<TimeProvider>(clock));
        var mailer = provider.GetRequiredService<IDirectMailer>();

        var first = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "a@di.promise.test"), Content()).Bounded();
        Assert.Equal(DeliveryStatus.Deferred, Assert.Single(first.Recipients).Status);
        await TestTimeouts.EventuallyAsync(() => server.Accepted == 1, "the first connection accepted");

        var held = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "b@di.promise.test"), Content()).Bounded();
        Assert.Equal(DeliveryStatus.Deferred, Assert.Single(held.Recipients).Status);
        Assert.Equal(1, server.Accepted); // within HostBackoffAfter421 (1 min) by the registered clock: not connected again

        clock.Advance(TimeSpan.FromMinutes(2));
        var after = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "c@di.promise.test"), Content()).Bounded();
        Assert.Equal(DeliveryStatus.Deferred, Assert.Single(after.Recipients).Status);
        await TestTimeouts.EventuallyAsync(() => server.Accepted == 2, "connected again once the registered clock passed the backoff");
    }
}
