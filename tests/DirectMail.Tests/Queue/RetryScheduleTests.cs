using System;
using System.Collections.Generic;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Tests.Queue;

public sealed class RetryScheduleTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static RetrySchedule Exact(Action<MailQueueOptions>? configure = null)
    {
        var options = new MailQueueOptions { RetryJitter = 0 };
        configure?.Invoke(options);
        options.Validate();
        return new RetrySchedule(options);
    }

    private static SmtpReply Reply(int code, string text) => new(code, [text]);

    [Fact]
    public void Default_schedule_waits_past_postgrey_then_grows_to_every_four_hours()
    {
        var schedule = Exact();
        var expected = new[] { 330, 900, 1800, 3600, 7200, 14400, 14400, 14400 };
        for (var attempts = 1; attempts <= expected.Length; attempts++)
        {
            Assert.Equal(TimeSpan.FromSeconds(expected[attempts - 1]), schedule.NextDelay(attempts, Reply(450, "4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.html")));
        }
    }

    [Fact]
    public void Configured_intervals_replace_the_defaults_and_the_last_repeats()
    {
        var schedule = Exact(o => { o.RetryIntervals.Add(TimeSpan.FromSeconds(2)); o.RetryIntervals.Add(TimeSpan.FromSeconds(5)); });
        Assert.Equal(TimeSpan.FromSeconds(2), schedule.NextDelay(1, null));
        Assert.Equal(TimeSpan.FromSeconds(5), schedule.NextDelay(2, null));
        Assert.Equal(TimeSpan.FromSeconds(5), schedule.NextDelay(9, null));
    }

    [Fact]
    public void Jitter_spreads_within_its_fraction_and_is_repeatable_under_a_seed()
    {
        var options = new MailQueueOptions { RetryJitter = 0.1 };
        var first = new RetrySchedule(options, new Random(7));
        var second = new RetrySchedule(options, new Random(7));
        var seen = new HashSet<TimeSpan>();
        for (var i = 0; i < 200; i++)
        {
            var delay = first.NextDelay(4, null);
            Assert.Equal(delay, second.NextDelay(4, null));
            Assert.InRange(delay, TimeSpan.FromMinutes(54), TimeSpan.FromMinutes(66));
            seen.Add(delay);
        }

        Assert.True(seen.Count > 100, "the waits should differ from each other");
    }

    [Theory]
    [InlineData("4.7.1 Service unavailable, try again in 5 minutes", 300)]
    [InlineData("4.3.2 Please retry in 300 seconds", 300)]
    [InlineData("4.2.0 Greylisted, please try again in 180 seconds", 180)]
    [InlineData("4.7.0 Try again later, wait 2 hours", 7200)]
    public void A_server_hint_sets_the_wait(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetrySchedule.FindHint(text));
        Assert.Equal(TimeSpan.FromSeconds(seconds), Exact().NextDelay(1, Reply(450, text)));
    }

    [Theory]
    [InlineData("4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.html")]
    [InlineData("4.3.0 Try again later")]
    [InlineData("4.4.5 Insufficient system storage, 2 messages waiting")]
    public void Text_without_a_named_wait_is_no_hint(string text)
    {
        Assert.Null(RetrySchedule.FindHint(text));
        Assert.Equal(TimeSpan.FromSeconds(330), Exact().NextDelay(1, Reply(450, text)));
    }

    [Fact]
    public void A_hint_is_clamped_to_the_minimum_and_the_maximum()
    {
        var schedule = Exact(o => { o.MinimumHintedDelay = TimeSpan.FromMinutes(1); o.MaximumHintedDelay = TimeSpan.FromHours(2); });
        Assert.Equal(TimeSpan.FromMinutes(1), schedule.NextDelay(1, Reply(450, "4.2.0 try again in 5 seconds")));
        Assert.Equal(TimeSpan.FromHours(2), schedule.NextDelay(1, Reply(450, "4.2.0 try again in 30 hours")));
    }

    [Fact]
    public void A_jittered_hint_is_never_earlier_than_the_server_asked()
    {
        var schedule = new RetrySchedule(new MailQueueOptions { RetryJitter = 0.1 }, new Random(3));
        for (var i = 0; i < 100; i++)
        {
            Assert.InRange(schedule.NextDelay(1, Reply(450, "4.2.0 Greylisted, please try again in 180 seconds")), TimeSpan.FromSeconds(180), TimeSpan.FromSeconds(198));
        }
    }

    [Theory]
    [InlineData(421, "4.7.28 Our system has detected an unusual rate of unsolicited mail")]
    [InlineData(451, "4.7.500 Server busy. Please try again later")]
    public void A_rate_limit_waits_at_least_the_rate_limit_delay(int code, string text)
    {
        var reply = Reply(code, text);
        Assert.True(RetrySchedule.IsRateLimit(reply));
        Assert.Equal(TimeSpan.FromMinutes(30), Exact().NextDelay(1, reply));

        // Later in the schedule the longer interval stands.
        Assert.Equal(TimeSpan.FromHours(1), Exact().NextDelay(4, reply));
    }

    [Theory]
    [InlineData(451, "4.7.1 Greylisting in action, please come back later")]
    [InlineData(450, "4.7.1 Recipient address rejected: try later")]
    [InlineData(421, "4.3.2 Service shutting down")]
    public void Greylisting_and_other_codes_are_no_rate_limit(int code, string text)
    {
        Assert.False(RetrySchedule.IsRateLimit(Reply(code, text)));
    }

    [Fact]
    public void The_next_attempt_is_never_after_the_expiry()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = Exact();
        var expires = Start + TimeSpan.FromMinutes(10);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(330), schedule.NextAttempt(time.GetUtcNow(), 1, null, expires));
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(expires, schedule.NextAttempt(time.GetUtcNow(), 2, null, expires));
    }

    [Fact]
    public void Invalid_options_are_refused_by_name()
    {
        Assert.Equal("RetryJitter", Assert.Throws<ArgumentException>(() => new MailQueueOptions { RetryJitter = 1 }.Validate()).ParamName);
        Assert.Equal("MaxAge", Assert.Throws<ArgumentException>(() => new MailQueueOptions { MaxAge = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("RetryIntervals", Assert.Throws<ArgumentException>(() => new MailQueueOptions { RetryIntervals = { TimeSpan.FromSeconds(-1) } }.Validate()).ParamName);
        Assert.Equal("MaximumHintedDelay", Assert.Throws<ArgumentException>(() => new MailQueueOptions { MinimumHintedDelay = TimeSpan.FromHours(7) }.Validate()).ParamName);
        Assert.Equal("ClaimBatchSize", Assert.Throws<ArgumentException>(() => new MailQueueOptions { ClaimBatchSize = 0 }.Validate()).ParamName);
    }
}
