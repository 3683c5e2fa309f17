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
        var memory = new DestinationMemory();
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
}
