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

    [Fact]
    public void Destination_limits_are_bound_from_configuration()
    {
        using var host = Build(new()
        {
            ["DirectMail:Queue:MaxMessagesPerSecondPerDestination"] = "2",
            ["DirectMail:Queue:MaxConnectionsPerDestination"] = "3",
            ["DirectMail:Queue:ConnectionSlotWait"] = "00:00:05",
            ["DirectMail:Queue:DelayWarningTime"] = "02:00:00",
            ["DirectMail:Queue:DestinationLimits:0:Name"] = "google",
            ["DirectMail:Queue:DestinationLimits:0:MxHosts:0"] = "*.google.com",
            ["DirectMail:Queue:DestinationLimits:0:MxHosts:1"] = "*.googlemail.com",
            ["DirectMail:Queue:DestinationLimits:0:MaxMessagesPerSecond"] = "20",
            ["DirectMail:Queue:DestinationLimits:0:Burst"] = "40",
            ["DirectMail:Queue:DestinationLimits:0:MaxConnections"] = "10",
            ["DirectMail:Queue:DestinationLimits:1:Name"] = "outlook",
            ["DirectMail:Queue:DestinationLimits:1:MxHosts:0"] = "*.protection.outlook.com",
            ["DirectMail:Queue:DestinationLimits:1:MaxConnections"] = "4",
        });

        var options = host.Services.GetRequiredService<IOptions<MailQueueOptions>>().Value;

        Assert.Equal(2, options.MaxMessagesPerSecondPerDestination);
        Assert.Equal(3, options.MaxConnectionsPerDestination);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectionSlotWait);
        Assert.Equal(TimeSpan.FromHours(2), options.DelayWarningTime);
        Assert.Equal(2, options.DestinationLimits.Count);
        var google = options.DestinationLimits[0];
        Assert.Equal(("google", 20.0, 40.0, 10), (google.Name, google.MaxMessagesPerSecond, google.Burst, google.MaxConnections));
        Assert.Equal(["*.google.com", "*.googlemail.com"], google.MxHosts);
        Assert.Equal(("outlook", 0.0, 4), (options.DestinationLimits[1].Name, options.DestinationLimits[1].MaxMessagesPerSecond, options.DestinationLimits[1].MaxConnections));
    }

    [Fact]
    public void Every_invalid_option_is_reported_at_startup_each_by_its_key()
    {
        using var host = Build(new()
        {
            ["DirectMail:Queue:MaxAge"] = "00:00:00",
            ["DirectMail:Queue:DelayWarningTime"] = "-00:00:01",
            ["DirectMail:Queue:MaxConnectionsPerDestination"] = "-1",
            ["DirectMail:Queue:DestinationLimits:0:Name"] = "google",
            ["DirectMail:Queue:DestinationLimits:0:MxHosts:0"] = "mx.*.google.com",
            ["DirectMail:Queue:DestinationLimits:0:Burst"] = "0.5",
            ["DirectMail:Queue:DestinationLimits:1:Name"] = "GOOGLE",
            ["DirectMail:Queue:DestinationLimits:1:MaxMessagesPerSecond"] = "-3",
        });

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<MailQueueOptions>>().Value);

        Assert.Equal(
            [
                "DirectMail:Queue:MaxAge must be positive; it is 00:00:00.",
                "DirectMail:Queue:DelayWarningTime must be 0 (no warning) or positive; it is -00:00:01.",
                "DirectMail:Queue:MaxConnectionsPerDestination must be 0 (no limit) or positive; it is -1.",
                "DirectMail:Queue:DestinationLimits:0:MxHosts: 'mx.*.google.com' is not a host name or *.suffix (a '*.' only at the start, then a domain).",
                "DirectMail:Queue:DestinationLimits:0:Burst must be 0 (one second's worth) or at least 1; it is 0.5.",
                "DirectMail:Queue:DestinationLimits:1:Name 'GOOGLE' is used by an earlier rule; each limit has its own name.",
                "DirectMail:Queue:DestinationLimits:1:MxHosts is empty: list the MX host names the rule matches (mx.example.net, or *.example.net for every host under it).",
                "DirectMail:Queue:DestinationLimits:1:MaxMessagesPerSecond must be 0 (no limit) or positive; it is -3.",
            ],
            e.Failures);
    }

    [Fact]
    public void Validate_without_DI_throws_one_exception_listing_every_error()
    {
        var options = new MailQueueOptions { ClaimBatchSize = 0, ConnectionSlotWait = TimeSpan.Zero };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("2 options are invalid: DirectMail:Queue:ConnectionSlotWait must be positive; it is 00:00:00. DirectMail:Queue:ClaimBatchSize must be at least 1; it is 0.", e.Message);
    }
}
