using System.Collections.Generic;
using DirectMail.Delivery;
using DirectMail.Suppression;
using DirectMail.Tests.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DirectMail.Tests.Suppression;

/// <summary>AddSuppressionList: the mailer consults the store, a bounce intake is registered over it with the queue and the VERP prefix; the VERP and refusal options bind from configuration.</summary>
public sealed class AddSuppressionListTests
{
    [Fact]
    public void The_mailer_consults_the_store_and_the_intake_uses_the_queue_and_the_configured_VERP_prefix()
    {
        var store = new InMemorySuppressionStore();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DirectMail:Verp:BounceDomain"] = "bounces.client.test",
            ["DirectMail:Verp:Prefix"] = "vb",
            ["DirectMail:SuppressRefusedRecipients"] = "true",
        });
        builder.Services.AddDirectMail(o => o.HeloName = "client.test.example").AddQueue(_ => new InMemoryQueueStore()).AddSuppressionList(_ => store);
        using var host = builder.Build();

        var mailer = host.Services.GetRequiredService<DirectMailer>();
        var options = host.Services.GetRequiredService<IOptions<DirectMailOptions>>().Value;

        Assert.Same(store, mailer.SuppressionStore);
        Assert.Same(store, host.Services.GetRequiredService<ISuppressionStore>());
        Assert.Equal("vb", host.Services.GetRequiredService<BounceIngester>().VerpPrefix);
        Assert.Equal(("bounces.client.test", true), (options.Verp.BounceDomain, options.SuppressRefusedRecipients));
    }

    [Fact]
    public void A_VERP_bounce_domain_that_is_not_a_host_name_is_refused_at_validation()
    {
        // Stops: a bounce domain with spaces or '>' reaching MAIL FROM.
        var options = new DirectMailOptions { HeloName = "client.test.example" };
        options.Verp.BounceDomain = "bounces.example.com> SIZE=1";

        var error = Assert.Throws<System.ArgumentException>(options.Validate);

        Assert.Contains("DirectMail:Verp", error.Message, System.StringComparison.Ordinal);
    }
}
