using System;
using System.Collections.Generic;
using DirectMail.Delivery;
using DirectMail.Routing;
using DirectMail.Smtp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DirectMail.Tests.Routing;

/// <summary>DirectMail:Relays and DirectMail:Routes bound from configuration by AddDirectMail, and checked by its one validator.</summary>
public sealed class RouteOptionsBindingTests
{
    private static DirectMailOptions Bind(Dictionary<string, string?> settings)
    {
        settings["DirectMail:HeloName"] = "client.test.example";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDirectMail();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<DirectMailOptions>>().Value;
    }

    [Fact]
    public void Relays_and_routes_bind_from_the_DirectMail_section()
    {
        var options = Bind(new()
        {
            ["DirectMail:Relays:corp:Hosts:0"] = "smtp.example.net:465",
            ["DirectMail:Relays:corp:Hosts:1"] = "smtp2.example.net",
            ["DirectMail:Relays:corp:TlsMode"] = "Implicit",
            ["DirectMail:Relays:corp:UserName"] = "app@example.com",
            ["DirectMail:Relays:corp:Password"] = "secret",
            ["DirectMail:Relays:corp:AuthMechanism"] = "ScramSha256",
            ["DirectMail:Routes:Default"] = "Direct",
            ["DirectMail:Routes:Domains:example.org"] = "corp",
            ["DirectMail:Routes:SenderDomains:tenant.example"] = "corp",
            ["DirectMail:Routes:FallbackRelay"] = "corp",
            ["DirectMail:Routes:PortBlockedRelay"] = "corp",
            ["DirectMail:Routes:PortBlockedRelayDuration"] = "00:10:00",
        });

        var relay = options.Relays["CORP"];
        Assert.Equal(["smtp.example.net:465", "smtp2.example.net"], relay.Hosts);
        Assert.Equal(SmtpTlsMode.Implicit, relay.TlsMode);
        Assert.Equal(("app@example.com", "secret", SmtpAuthMechanism.ScramSha256), (relay.UserName, relay.Password, relay.AuthMechanism));
        Assert.Equal("corp", options.Routes.Domains["example.org"]);
        Assert.Equal("corp", options.Routes.SenderDomains["tenant.example"]);
        Assert.Equal(("corp", "corp"), (options.Routes.FallbackRelay, options.Routes.PortBlockedRelay));
        Assert.Equal(TimeSpan.FromMinutes(10), options.Routes.PortBlockedRelayDuration);
    }

    [Fact]
    public void A_relay_with_a_user_but_no_secret_fails_validation_at_startup()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Bind(new()
        {
            ["DirectMail:Relays:corp:Hosts:0"] = "smtp.example.net",
            ["DirectMail:Relays:corp:UserName"] = "app@example.com",
            ["DirectMail:Routes:Default"] = "corp",
        }));

        Assert.Contains("DirectMail:Relays:corp needs a user name and exactly one of Password and TokenProvider.", e.Message, StringComparison.Ordinal);
    }
}
