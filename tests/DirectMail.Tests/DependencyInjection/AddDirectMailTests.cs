using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DirectMail.Tests.DependencyInjection;

[CollectionDefinition(Name)]
public sealed class DependencyInjectionCollection : ICollectionFixture<DeliveryDnsFixture>
{
    public const string Name = "DirectMail dependency injection (SMTP on 127.0.26.70-71:10025)";
}

/// <summary>services.AddDirectMail(): configuration binding, validation at startup, and replacing the resolver.</summary>
[Collection(DependencyInjectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AddDirectMailTests
{
    private static Dictionary<string, string?> ValidSection() => new()
    {
        ["DirectMail:HeloName"] = "client.deliver.test",
        ["DirectMail:Port"] = "10025",
        ["DirectMail:NameServers:0"] = DeliveryDnsFixture.NameServer,
        ["DirectMail:AllowPrivateTargets"] = "true",
        ["DirectMail:TlsMode"] = "None",
        ["DirectMail:AddressFamilyPreference"] = "IPv4Only",
        ["DirectMail:LocalAddress"] = "127.0.0.1",
        ["DirectMail:Timeouts:Connect"] = "00:00:02",
        ["DirectMail:Timeouts:Greeting"] = "00:00:03",
        ["DirectMail:Timeouts:Command"] = "00:00:04",
        ["DirectMail:Timeouts:DataTermination"] = "00:00:05",
        ["DirectMail:SendTimeout"] = "00:00:20",
        ["DirectMail:MaxRecipientsPerTransaction"] = "50",
        ["DirectMail:MaxAddressesPerDomain"] = "3",
        ["DirectMail:MaxConnectionsPerHost"] = "2",
        ["DirectMail:MaxRetryAttempts"] = "0",
        ["DirectMail:MtaStsFetchTimeout"] = "00:00:07",
    };

    private static IHost BuildHost(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null, Action<DirectMailOptions>? configure = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDirectMail(configure);
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task The_DirectMail_section_is_bound_and_the_mailer_delivers_with_it()
    {
        // The server offers STARTTLS: only TlsMode None from the section keeps the client from using it.
        var dialogue = new SmtpDialogue { EhloReply = "250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME" };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.DependencyInjection));
        using var host = BuildHost(ValidSection());
        await host.StartAsync();

        var options = host.Services.GetRequiredService<IOptions<DirectMailOptions>>().Value;
        Assert.Equal("client.deliver.test", options.HeloName);
        Assert.Equal(10025, options.Port);
        Assert.Equal([DeliveryDnsFixture.NameServer], options.NameServers);
        Assert.True(options.AllowPrivateTargets);
        Assert.Equal(SmtpTlsMode.None, options.TlsMode);
        Assert.Equal(AddressFamilyPreference.IPv4Only, options.AddressFamilyPreference);
        Assert.Equal("127.0.0.1", options.LocalAddress);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Timeouts.Greeting);
        Assert.Equal(TimeSpan.FromSeconds(4), options.Timeouts.Command);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Timeouts.DataTermination);
        Assert.Equal(TimeSpan.FromSeconds(20), options.SendTimeout);
        Assert.Equal(50, options.MaxRecipientsPerTransaction);
        Assert.Equal(3, options.MaxAddressesPerDomain);
        Assert.Equal(2, options.MaxConnectionsPerHost);
        Assert.Equal(0, options.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(7), options.MtaStsFetchTimeout); // bound by the generated binder (no reflection: AOT)

        var mailer = host.Services.GetRequiredService<IDirectMailer>();
        using (var scope = host.Services.CreateScope())
        {
            Assert.Same(mailer, scope.ServiceProvider.GetRequiredService<IDirectMailer>()); // a singleton
        }

        var recipients = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            recipients.Add($"user{i:D2}@di.deliver.test");
        }

        var report = await mailer.SendAsync(new SmtpEnvelope(DeliveryTestKit.Sender, recipients), SmtpContent.FromBytes(DeliveryTestKit.Message("di")));

        Assert.True(report.IsFullyDelivered, report.ToString());
        Assert.Equal([50, 10], DeliveryTestKit.Transactions(dialogue).ConvertAll(t => t.Recipients.Count)); // MaxRecipientsPerTransaction from configuration
        Assert.Equal(0, DeliveryTestKit.Count(dialogue, "STARTTLS")); // TlsMode None from configuration
        await host.StopAsync();
    }

    [Fact]
    public void The_configure_callback_runs_after_the_section_and_wins()
    {
        using var host = BuildHost(ValidSection(), configure: o =>
        {
            o.MaxRecipientsPerTransaction = 7;
            o.HeloName = "override.deliver.test";
        });

        var options = host.Services.GetRequiredService<IOptions<DirectMailOptions>>().Value;

        Assert.Equal(7, options.MaxRecipientsPerTransaction);
        Assert.Equal("override.deliver.test", options.HeloName);
        Assert.Equal(10025, options.Port); // still from the section
    }

    [Fact]
    public void Without_a_configuration_the_callback_alone_configures()
    {
        var services = new ServiceCollection();
        services.AddDirectMail(o =>
        {
            o.HeloName = "mail.example.com";
            o.Port = 2525;
        });
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<DirectMailOptions>>().Value;

        Assert.Equal("mail.example.com", options.HeloName);
        Assert.Equal(2525, options.Port);
        Assert.NotNull(provider.GetRequiredService<IDirectMailer>());
    }

    [Theory]
    [InlineData("HeloName", "", "HeloName")]
    [InlineData("HeloName", "localhost", "HeloName")]
    [InlineData("HeloName", "bad name.example.com", "HeloName")]
    [InlineData("Timeouts:Connect", "00:00:00", "DirectMail:Timeouts:Connect")]
    [InlineData("Timeouts:Greeting", "-00:00:01", "DirectMail:Timeouts:Greeting")]
    [InlineData("Timeouts:DataTermination", "00:00:00", "DirectMail:Timeouts:DataTermination")]
    [InlineData("SendTimeout", "-00:01:00", "SendTimeout")]
    [InlineData("Port", "0", "Port")]
    [InlineData("Port", "70000", "Port")]
    [InlineData("MaxRecipientsPerTransaction", "0", "MaxRecipientsPerTransaction")]
    [InlineData("MaxConnectionsPerHost", "0", "MaxConnectionsPerHost")]
    [InlineData("NameServers:0", "not-an-address", "NameServers")]
    [InlineData("LocalAddress", "nowhere", "LocalAddress")]
    public async Task Invalid_options_stop_the_host_at_startup_with_a_message_naming_the_option(string key, string value, string named)
    {
        var settings = ValidSection();
        settings["DirectMail:" + key] = value;
        using var host = BuildHost(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains(value.Length == 0 ? "required" : value, error.Message, StringComparison.Ordinal); // says what is wrong with which value
    }

    [Fact]
    public async Task Timeouts_bound_from_the_DirectMail_Timeouts_section_are_the_ones_a_session_waits_for()
    {
        await using var silent = ScriptedSmtpServer.Start(async c => await c.NothingArrivesAsync(TimeSpan.FromSeconds(5)), TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.DependencyInjection));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(ValidSection());
        builder.Configuration.AddJsonStream(new MemoryStream("""{ "DirectMail": { "Timeouts": { "Greeting": "00:00:00.35" } } }"""u8.ToArray()));
        builder.Services.AddDirectMail();
        using var host = builder.Build();
        await host.StartAsync();

        var report = await host.Services.GetRequiredService<IDirectMailer>().SendAsync(new SmtpEnvelope(DeliveryTestKit.Sender, "a@di.deliver.test"), SmtpContent.FromBytes(DeliveryTestKit.Message("timeouts")));

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, recipient.Status);
        Assert.Contains("did not reply within 00:00:00.3500000 (Greeting)", recipient.Detail, StringComparison.Ordinal); // the JSON value, over the in-memory 3 s
        var timeouts = host.Services.GetRequiredService<IOptions<DirectMailOptions>>().Value.Timeouts;
        Assert.Equal(TimeSpan.FromSeconds(4), timeouts.Command);          // the other keys of the section are bound too
        Assert.Equal(TimeSpan.FromMinutes(5), timeouts.RcptTo);           // and the ones not given keep their defaults
        await host.StopAsync();
    }

    [Fact]
    public async Task Two_wrong_timeouts_are_both_named_when_the_host_starts()
    {
        var settings = ValidSection();
        settings["DirectMail:Timeouts:Connect"] = "00:00:00";
        settings["DirectMail:Timeouts:DataBlock"] = "-00:00:01";
        using var host = BuildHost(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(
            ["DirectMail:Timeouts:Connect must be positive (or Timeout.InfiniteTimeSpan); it is 00:00:00.", "DirectMail:Timeouts:DataBlock must be positive (or Timeout.InfiniteTimeSpan); it is -00:00:01."],
            error.Failures);
    }

    [Fact]
    public async Task A_mailer_keeps_the_options_it_was_built_with()
    {
        await using var silent = ScriptedSmtpServer.Start(async c => await c.NothingArrivesAsync(TimeSpan.FromSeconds(5)), TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.FakeResolverTarget));
        var options = new DirectMailOptions
        {
            HeloName = "client.deliver.test",
            Port = TestAddresses.Delivery.Port,
            AllowPrivateTargets = true,
            TlsMode = SmtpTlsMode.None,
            MaxRetryAttempts = 0,
            Timeouts = { Greeting = TimeSpan.FromMilliseconds(350) },
        };
        await using var mailer = new DirectMailer(options, new FakeResolver());

        options.Timeouts.Greeting = TimeSpan.FromSeconds(30);
        options.Port = 1;
        options.HeloName = string.Empty;

        var report = await mailer.SendAsync(new SmtpEnvelope(DeliveryTestKit.Sender, "a@nowhere.invalid"), SmtpContent.FromBytes(DeliveryTestKit.Message("copied")));

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(TestAddresses.Delivery.FakeResolverTarget, recipient.ServerAddress);
        Assert.Contains("did not reply within 00:00:00.3500000 (Greeting)", recipient.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_HeloName_says_what_to_put_there()
    {
        var services = new ServiceCollection();
        services.AddDirectMail();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDirectMailer>());

        Assert.Contains("HeloName", error.Message, StringComparison.Ordinal);
        Assert.Contains("fully qualified", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_registered_resolver_replaces_DNS(bool registerBefore)
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.FakeResolverTarget));
        var fake = new FakeResolver();
        var settings = ValidSection();
        settings.Remove("DirectMail:NameServers:0");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        if (registerBefore)
        {
            builder.Services.AddSingleton<IMxResolver>(fake);
            builder.Services.AddDirectMail();
        }
        else
        {
            builder.Services.AddDirectMail();
            builder.Services.AddSingleton<IMxResolver>(fake);
        }

        using var host = builder.Build();
        await host.StartAsync();
        var mailer = host.Services.GetRequiredService<IDirectMailer>();

        var report = await mailer.SendAsync(new SmtpEnvelope(DeliveryTestKit.Sender, "a@nowhere.invalid", "b@NOWHERE.invalid"), SmtpContent.FromBytes(DeliveryTestKit.Message("fake resolver")));

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.All(report.Recipients, r => Assert.Equal("fake-mx.invalid", r.MxHost));
        Assert.All(report.Recipients, r => Assert.Equal(TestAddresses.Delivery.FakeResolverTarget, r.ServerAddress));
        Assert.Equal(["nowhere.invalid"], fake.Asked);
        Assert.Single(dialogue.Messages);
        await host.StopAsync();
    }

    [Fact]
    public void ConfigureResilience_receives_the_validated_options()
    {
        DirectMailOptions? seen = null;
        var services = new ServiceCollection();
        services.AddDirectMail(o => o.HeloName = "mail.example.com")
            .ConfigureResilience((pipeline, options) =>
            {
                seen = options;
                DeliveryResilience.AddDefaultStrategies(pipeline, options);
            });
        using var provider = services.BuildServiceProvider();

        _ = provider.GetRequiredService<IDirectMailer>();

        Assert.NotNull(seen);
        Assert.Equal("mail.example.com", seen!.HeloName);
    }

    private sealed class FakeResolver : IMxResolver
    {
        private readonly ConcurrentQueue<string> _asked = new();

        public List<string> Asked => [.. _asked];

        public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
        {
            _asked.Enqueue(domain);
            return ValueTask.FromResult(MxResolution.FromTargets(domain, [new MxTarget("fake-mx.invalid", 10, [new MxAddress(TestAddresses.Delivery.FakeResolverTarget)])]));
        }
    }
}
