using System;
using System.Threading.Tasks;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>
/// What every <see cref="IQueueLimitStore"/> keeps: the token bucket's exact waits and the connection slots with their
/// leases. <see cref="One"/> and <see cref="Two"/> are two instances on one shared store (the same object for a store
/// that shares nothing), so the limits are seen to hold across them.
/// </summary>
public abstract class QueueLimitStoreContractTests
{
    protected static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    protected abstract IQueueLimitStore One { get; }

    protected abstract IQueueLimitStore Two { get; }

    [Fact]
    public async Task The_bucket_lets_the_burst_through_then_each_message_waits_its_turn_at_the_rate()
    {
        Assert.Equal(TimeSpan.Zero, await One.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.Zero, await Two.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.FromSeconds(0.5), await One.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.FromSeconds(1), await Two.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.Zero, await Two.TakeMessageTokenAsync("outlook", 2, 2, Start, default));

        // Refilled by the time passed, up to the burst (2, not 8); a clock behind the last take refills nothing.
        Assert.Equal(TimeSpan.Zero, await Two.TakeMessageTokenAsync("google", 2, 2, Start + TimeSpan.FromSeconds(5), default));
        Assert.Equal(TimeSpan.Zero, await One.TakeMessageTokenAsync("google", 2, 2, Start + TimeSpan.FromSeconds(4), default));
        Assert.Equal(TimeSpan.FromSeconds(0.5), await One.TakeMessageTokenAsync("google", 2, 2, Start + TimeSpan.FromSeconds(5), default));
    }

    [Fact]
    public async Task A_burst_larger_than_the_rate_lets_that_many_go_at_once()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(TimeSpan.Zero, await (i % 2 == 0 ? One : Two).TakeMessageTokenAsync("outlook", 1, 10, Start, default));
        }

        Assert.Equal(TimeSpan.FromSeconds(1), await One.TakeMessageTokenAsync("outlook", 1, 10, Start, default));
    }

    [Fact]
    public async Task Slots_are_limited_per_key_freed_by_release_and_by_the_end_of_their_lease()
    {
        var lease = Start + TimeSpan.FromMinutes(2);
        Assert.True(await One.TryAcquireConnectionSlotAsync("google", 2, "one:1", Start, lease, default));
        Assert.True(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:1", Start, lease, default));
        Assert.False(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:2", Start, lease, default));
        Assert.True(await Two.TryAcquireConnectionSlotAsync("other", 2, "two:2", Start, lease, default));

        await One.ReleaseConnectionSlotAsync("google", "one:1", default);
        Assert.True(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:2", Start, lease, default));
        Assert.False(await One.TryAcquireConnectionSlotAsync("google", 2, "one:2", Start + TimeSpan.FromMinutes(1), lease, default));

        // two:1 renews (taken again by its holder, whatever the count); two:2 lapses at 2 minutes, as a killed instance's would.
        Assert.True(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:1", Start + TimeSpan.FromMinutes(1), Start + TimeSpan.FromMinutes(3), default));
        Assert.True(await One.TryAcquireConnectionSlotAsync("google", 2, "one:2", lease, lease + TimeSpan.FromMinutes(2), default));
        Assert.False(await One.TryAcquireConnectionSlotAsync("google", 2, "one:3", lease, lease + TimeSpan.FromMinutes(2), default));
    }
}
