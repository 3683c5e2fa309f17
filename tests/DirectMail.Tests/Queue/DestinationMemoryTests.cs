using System;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

public sealed class DestinationMemoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_destination_is_left_alone_until_its_time_and_the_later_mark_wins()
    {
        var time = new FakeTimeProvider(Start);
        var memory = new DestinationMemory(time, 0);
        memory.MarkUnavailable("mx.dead.test", Start + TimeSpan.FromMinutes(5), "no MX host could be reached");
        memory.MarkUnavailable("mx.dead.test", Start + TimeSpan.FromMinutes(2), "earlier");

        Assert.True(memory.IsUnavailable("mx.dead.test", time.GetUtcNow(), out var until, out var reason));
        Assert.Equal(Start + TimeSpan.FromMinutes(5), until);
        Assert.Equal("no MX host could be reached", reason);
        Assert.False(memory.IsUnavailable("mx.alive.test", time.GetUtcNow(), out _, out _));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(memory.IsUnavailable("mx.dead.test", time.GetUtcNow(), out _, out _));
        Assert.Equal(0, memory.Count);
    }

    [Fact]
    public void The_token_bucket_lets_the_rate_through_and_makes_the_rest_wait()
    {
        var time = new FakeTimeProvider(Start);
        var memory = new DestinationMemory(time, 2);

        Assert.Equal(TimeSpan.Zero, memory.TakeToken("mx.test"));
        Assert.Equal(TimeSpan.Zero, memory.TakeToken("mx.test"));
        Assert.Equal(TimeSpan.FromSeconds(0.5), memory.TakeToken("mx.test"));
        Assert.Equal(TimeSpan.FromSeconds(1), memory.TakeToken("mx.test"));
        Assert.Equal(TimeSpan.Zero, memory.TakeToken("mx.other.test"));

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.Zero, memory.TakeToken("mx.test"));
    }

    [Fact]
    public void Without_a_limit_nothing_waits()
    {
        var memory = new DestinationMemory(new FakeTimeProvider(Start), 0);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(TimeSpan.Zero, memory.TakeToken("mx.test"));
        }
    }
}
