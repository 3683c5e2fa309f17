using System;
using System.Threading;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Tests.Delivery;

/// <summary>The options' one rule set: every wrong option reported at once, by its configuration key; the SMTP timeouts' defaults.</summary>
public sealed class DirectMailOptionsTests
{
    [Fact]
    public void A_mailer_built_with_two_wrong_timeouts_names_both_in_one_exception()
    {
        var options = new DirectMailOptions { HeloName = "mail.example.com", Timeouts = { Connect = TimeSpan.Zero, DataTermination = TimeSpan.FromSeconds(-5) } };

        var e = Assert.Throws<ArgumentException>(() => new DirectMailer(options));

        Assert.Equal(
            "2 options are invalid: DirectMail:Timeouts:Connect must be positive (or Timeout.InfiniteTimeSpan); it is 00:00:00. "
            + "DirectMail:Timeouts:DataTermination must be positive (or Timeout.InfiniteTimeSpan); it is -00:00:05.",
            e.Message);
    }

    [Fact]
    public void Every_wrong_option_is_listed_in_the_order_of_the_options()
    {
        var options = new DirectMailOptions
        {
            HeloName = "localhost",
            Port = 0,
            NameServers = ["not-an-address"],
            Timeouts = { RcptTo = TimeSpan.Zero },
            MaxRetryAttempts = -1,
        };

        var errors = options.Check().Messages;

        Assert.Equal(
            [
                "DirectMail:HeloName 'localhost' is not fully qualified; receivers reject EHLO names without a domain. Use the host's full name (mail.example.com) or an address literal.",
                "DirectMail:Port must be 1 to 65535; it is 0.",
                "DirectMail:NameServers entry 'not-an-address' is not IP or IP:port.",
                "DirectMail:Timeouts:RcptTo must be positive (or Timeout.InfiniteTimeSpan); it is 00:00:00.",
                "DirectMail:MaxRetryAttempts must be 0 to 100; it is -1.",
            ],
            errors);
    }

    [Fact]
    public void One_wrong_option_is_thrown_with_its_name_as_the_parameter()
    {
        var e = Assert.Throws<ArgumentException>(new DirectMailOptions { HeloName = "mail.example.com", Timeouts = { Greeting = TimeSpan.Zero } }.Validate);

        Assert.Equal("Timeouts.Greeting", e.ParamName);
        Assert.StartsWith("DirectMail:Timeouts:Greeting must be positive (or Timeout.InfiniteTimeSpan); it is 00:00:00.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_options_name_every_wrong_timeout_by_property()
    {
        var options = new SmtpSessionOptions { HeloName = "bad name", Timeouts = { Command = TimeSpan.Zero, MailFrom = TimeSpan.FromTicks(-1) } };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Null(e.ParamName);
        Assert.StartsWith("3 options are invalid: The EHLO name 'bad name' is not a domain name", e.Message, StringComparison.Ordinal);
        Assert.Contains(" Timeouts.Command must be positive (or Timeout.InfiniteTimeSpan); it is 00:00:00. ", e.Message, StringComparison.Ordinal);
        Assert.EndsWith(" Timeouts.MailFrom must be positive (or Timeout.InfiniteTimeSpan); it is -00:00:00.0000001.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "00:00:00")]
    [InlineData(-1_000, "-00:00:01")]
    [InlineData(121_000, "00:02:01")]
    [InlineData(-1, "-00:00:00.0010000")] // Timeout.InfiniteTimeSpan: never, as a fetch with no end would hold the domain's mail for ever
    public void The_MTA_STS_fetch_timeout_must_be_short_and_positive(int milliseconds, string shown)
    {
        // Stops: a zero timeout failing every fetch (MTA-STS silently off) or an endless one letting a policy host that
        // never answers hold a domain's first delivery for ever.
        var e = Assert.Throws<ArgumentException>(new DirectMailOptions { HeloName = "mail.example.com", MtaStsFetchTimeout = TimeSpan.FromMilliseconds(milliseconds) }.Validate);

        Assert.Equal(nameof(DirectMailOptions.MtaStsFetchTimeout), e.ParamName);
        Assert.StartsWith($"DirectMail:MtaStsFetchTimeout must be more than 0 and at most 00:02:00 (RFC 8461 section 3.3 asks for a short timeout; the first delivery to a domain waits for the fetch); it is {shown}.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_MTA_STS_fetch_timeout_defaults_to_15_seconds_and_its_bounds_are_allowed()
    {
        Assert.Equal(TimeSpan.FromSeconds(15), new DirectMailOptions().MtaStsFetchTimeout);
        Assert.False(new DirectMailOptions { HeloName = "mail.example.com", MtaStsFetchTimeout = TimeSpan.FromMinutes(2) }.Check().HasErrors);
        Assert.False(new DirectMailOptions { HeloName = "mail.example.com", MtaStsFetchTimeout = TimeSpan.FromMilliseconds(1) }.Check().HasErrors);
    }

    [Fact]
    public void Infinite_timeouts_are_allowed()
    {
        var options = new DirectMailOptions { HeloName = "mail.example.com", Timeouts = { Greeting = Timeout.InfiniteTimeSpan, DataTermination = Timeout.InfiniteTimeSpan } };

        Assert.False(options.Check().HasErrors);
    }

    [Fact]
    public void The_timeouts_default_to_RFC_5321_section_4_5_3_2()
    {
        var timeouts = new DirectMailOptions().Timeouts;

        Assert.Equal(TimeSpan.FromSeconds(30), timeouts.Connect);
        Assert.Equal(TimeSpan.FromMinutes(5), timeouts.Greeting);
        Assert.Equal(TimeSpan.FromMinutes(5), timeouts.Command);
        Assert.Equal(TimeSpan.FromMinutes(5), timeouts.MailFrom);
        Assert.Equal(TimeSpan.FromMinutes(5), timeouts.RcptTo);
        Assert.Equal(TimeSpan.FromMinutes(2), timeouts.DataInitiation);
        Assert.Equal(TimeSpan.FromMinutes(3), timeouts.DataBlock);
        Assert.Equal(TimeSpan.FromMinutes(10), timeouts.DataTermination);
    }

    [Fact]
    public void The_mailer_hands_its_own_copy_of_the_timeouts_to_its_sessions()
    {
        var options = new DirectMailOptions { HeloName = "mail.example.com", Timeouts = { Command = TimeSpan.FromSeconds(7) } };
        using var mailer = new DirectMailer(options, new Infrastructure.TableResolver());

        options.Timeouts.Command = TimeSpan.FromSeconds(70);

        Assert.NotSame(options.Timeouts, mailer.Options.Timeouts);
        Assert.Equal(TimeSpan.FromSeconds(7), mailer.Options.Timeouts.Command);
        Assert.Same(mailer.Options.Timeouts, mailer.Options.ToSessionOptions(plaintext: true).Timeouts);
    }
}
