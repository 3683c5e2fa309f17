using System;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>Which limit a destination (its MX host names) counts against.</summary>
public sealed class DestinationLimitRulesTests
{
    private static DestinationLimitRules Rules(double defaultRate = 0, int defaultConnections = 0) => new(new MailQueueOptions
    {
        MaxMessagesPerSecondPerDestination = defaultRate,
        MaxConnectionsPerDestination = defaultConnections,
        DestinationLimits =
        {
            new DestinationLimit { Name = "google", MxHosts = { "*.google.com", "*.googlemail.com" }, MaxMessagesPerSecond = 20, MaxConnections = 10 },
            new DestinationLimit { Name = "outlook", MxHosts = { "*.protection.outlook.com" }, MaxMessagesPerSecond = 5, Burst = 50 },
            new DestinationLimit { Name = "partner", MxHosts = { "MX.Partner.Example." } },
        },
    });

    [Theory]
    [InlineData("alt1.aspmx.l.google.com alt2.aspmx.l.google.com aspmx.l.google.com", "google")]
    [InlineData("aspmx.l.google.com", "google")]
    [InlineData("ASPMX.L.GOOGLE.COM.", "google")]
    [InlineData("backup.example.net gmail-smtp-in.l.googlemail.com", "google")]
    [InlineData("example-com.mail.protection.outlook.com", "outlook")]
    [InlineData("mx.partner.example", "partner")]
    public void A_destination_any_of_whose_hosts_matches_a_rule_counts_against_the_rule(string destination, string key)
        => Assert.Equal(key, Rules().Match(destination).Key);

    [Fact]
    public void Two_domains_hosted_by_one_provider_share_its_limit_with_its_settings()
    {
        var rules = Rules();

        var one = rules.Match("alt1.aspmx.l.google.com aspmx.l.google.com");
        var other = rules.Match("aspmx.l.google.com");

        Assert.Equal(one, other);
        Assert.Equal(new LimitTarget("google", 20, 20, 10), one);
        Assert.Equal(new LimitTarget("outlook", 5, 50, 0), rules.Match("example-com.mail.protection.outlook.com"));
    }

    [Theory]
    [InlineData("google.com")] // *.google.com is the hosts under it, not the name itself
    [InlineData("mx.notgoogle.com")]
    [InlineData("mx.google.com.evil.example")]
    [InlineData("sub.mx.partner.example")] // an exact name is exact
    public void A_destination_no_rule_matches_gets_the_defaults_keyed_by_itself(string destination)
    {
        var target = Rules(defaultRate: 3, defaultConnections: 2).Match(destination);

        Assert.Equal(new LimitTarget(destination, 3, 3, 2), target);
    }

    [Fact]
    public void A_domain_whose_MX_lookup_failed_matches_no_rule()
        => Assert.Equal("domain google.com", Rules().Match("domain google.com").Key);

    [Fact]
    public void The_default_bucket_holds_one_second_of_messages_and_at_least_one()
    {
        Assert.Equal(1, Rules(defaultRate: 0.2).Match("mx.example.net").Burst);
        Assert.True(Rules(defaultRate: 0.2).Match("mx.example.net") is { MessagesPerSecond: 0.2, MaxConnections: 0 });
        Assert.True(Rules().IsEmpty is false);
        Assert.True(new DestinationLimitRules(new MailQueueOptions()).IsEmpty);
    }
}
