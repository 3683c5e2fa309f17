using System;
using System.Collections.Generic;
using System.Linq;
using DirectMail.Delivery;
using DirectMail.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DirectMail.Tests.Queue;

/// <summary>AddQueue: options from DirectMail:Queue, the queue and its worker registered, the mailer handing off. No host is started.</summary>
public sealed class AddQueueTests
{
    private static IHost Build(Dictionary<string, string?> settings, Action<MailQueueOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDirectMail(o => o.HeloName = "client.test.example").AddQueue(_ => new InMemoryQueueStore(), configure);
        return builder.Build();
    }

    [Fact]
    public void Options_are_bound_from_the_DirectMail_Queue_section_then_configured()
    {
        using var host = Build(
            new()
            {
                ["DirectMail:Queue:RetryIntervals:0"] = "00:00:02",
                ["DirectMail:Queue:RetryIntervals:1"] = "00:00:05",
                ["DirectMail:Queue:MaxAge"] = "01:00:00",
                ["DirectMail:Queue:RetryJitter"] = "0.2",
                ["DirectMail:Queue:MaxConcurrentDeliveries"] = "3",
            },
            o => o.ClaimBatchSize = 7);

        var options = host.Services.GetRequiredService<IOptions<MailQueueOptions>>().Value;

        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)], options.RetryIntervals);
        Assert.Equal(TimeSpan.FromHours(1), options.MaxAge);
        Assert.Equal(0.2, options.RetryJitter);
        Assert.Equal(3, options.MaxConcurrentDeliveries);
        Assert.Equal(7, options.ClaimBatchSize);
    }

    [Fact]
    public void The_queue_the_worker_and_the_hand_off_are_registered()
    {
        using var host = Build(new());

        var queue = host.Services.GetRequiredService<IMailQueue>();
        Assert.Same(host.Services.GetRequiredService<MailQueue>(), queue);
        Assert.Single(host.Services.GetServices<IHostedService>(), s => s.GetType().Name == "MailQueueHostedService");
        Assert.Same(queue, host.Services.GetRequiredService<DirectMailer>().OnDeferred);
        Assert.Same(host.Services.GetRequiredService<DirectMailer>(), host.Services.GetRequiredService<IDirectMailer>());
    }

    [Fact]
    public void The_hand_off_can_be_turned_off()
    {
        using var host = Build(new() { ["DirectMail:Queue:HandOffDeferred"] = "false" });

        Assert.Null(host.Services.GetRequiredService<DirectMailer>().OnDeferred);
    }

    [Fact]
    public void Invalid_options_fail_at_startup_naming_the_option()
    {
        using var host = Build(new() { ["DirectMail:Queue:MaxAge"] = "00:00:00" });

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<MailQueueOptions>>().Value);
        Assert.Contains("MaxAge", e.Message, StringComparison.Ordinal);
    }
}
