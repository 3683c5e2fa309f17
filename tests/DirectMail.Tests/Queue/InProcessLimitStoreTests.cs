using System;
using System.Threading.Tasks;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>The worker's own limits (a store that does not share them): the token bucket's exact waits and the connection slots.</summary>
public sealed class InProcessLimitStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly InProcessLimitStore _limits = new();

    private ValueTask<TimeSpan> Take(string key, double rate, double burst, TimeSpan at) => _limits.TakeMessageTokenAsync(key, rate, burst, Start + at, default);

    [Fact]
    public async Task The_bucket_lets_the_burst_through_then_each_message_waits_its_turn_at_the_rate()
    {
        Assert.Equal(TimeSpan.Zero, await Take("google", 2, 2, TimeSpan.Zero));
        Assert.Equal(TimeSpan.Zero, await Take("google", 2, 2, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(0.5), await Take("google", 2, 2, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(1), await Take("google", 2, 2, TimeSpan.Zero));
        Assert.Equal(TimeSpan.Zero, await Take("other", 2, 2, TimeSpan.Zero));

        // The two waiters went at 0.5 s and 1 s; by 2 s the bucket holds 2 again (the burst), not 3.
        Assert.Equal(TimeSpan.Zero, await Take("google", 2, 2, TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.Zero, await Take("google", 2, 2, TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.FromSeconds(0.5), await Take("google", 2, 2, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task A_burst_larger_than_the_rate_lets_that_many_go_at_once()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(TimeSpan.Zero, await Take("outlook", 1, 10, TimeSpan.Zero));
        }

        Assert.Equal(TimeSpan.FromSeconds(1), await Take("outlook", 1, 10, TimeSpan.Zero));
    }

    [Fact]
    public async Task Slots_are_limited_per_key_freed_by_release_and_by_the_end_of_their_lease()
    {
        var lease = Start + TimeSpan.FromMinutes(2);
        Assert.True(await _limits.TryAcquireConnectionSlotAsync("google", 2, "a", Start, lease, default));
        Assert.True(await _limits.TryAcquireConnectionSlotAsync("google", 2, "b", Start, lease, default));
        Assert.False(await _limits.TryAcquireConnectionSlotAsync("google", 2, "c", Start, lease, default));
        Assert.True(await _limits.TryAcquireConnectionSlotAsync("other", 2, "c", Start, lease, default));

        await _limits.ReleaseConnectionSlotAsync("google", "a", default);
        Assert.True(await _limits.TryAcquireConnectionSlotAsync("google", 2, "c", Start, lease, default));
        Assert.False(await _limits.TryAcquireConnectionSlotAsync("google", 2, "d", Start + TimeSpan.FromMinutes(1), lease, default));

        // b renews its slot (taking it again extends the lease); c's runs out at 2 minutes and d gets it.
        Assert.True(await _limits.TryAcquireConnectionSlotAsync("google", 2, "b", Start + TimeSpan.FromMinutes(1), Start + TimeSpan.FromMinutes(3), default));
        Assert.True(await _limits.TryAcquireConnectionSlotAsync("google", 2, "d", lease, lease + TimeSpan.FromMinutes(2), default));
        Assert.False(await _limits.TryAcquireConnectionSlotAsync("google", 2, "e", lease, lease + TimeSpan.FromMinutes(2), default));
    }
}
