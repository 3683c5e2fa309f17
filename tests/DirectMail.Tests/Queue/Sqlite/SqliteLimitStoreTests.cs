using System;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Queue.Sqlite.Internal;

namespace DirectMail.Tests.Queue.Sqlite;

/// <summary>
/// The SQLite store's shared limits: two stores opened on one directory (each with its own connections, as two
/// processes have) take from one bucket and one set of connection slots.
/// </summary>
public sealed class SqliteLimitStoreTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-limits-" + Guid.NewGuid().ToString("N"), "queue");
    private readonly SqliteMailQueueStore _one;
    private readonly SqliteMailQueueStore _two;

    public SqliteLimitStoreTests()
    {
        _one = new SqliteMailQueueStore(_directory);
        _two = new SqliteMailQueueStore(_directory);
    }

    private IQueueLimitStore One => _one;

    private IQueueLimitStore Two => _two;

    public async ValueTask DisposeAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
    }

    [Fact]
    public async Task Two_stores_on_one_directory_take_from_one_bucket_with_exact_waits()
    {
        Assert.Equal(TimeSpan.Zero, await One.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.Zero, await Two.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.FromSeconds(0.5), await One.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.FromSeconds(1), await Two.TakeMessageTokenAsync("google", 2, 2, Start, default));
        Assert.Equal(TimeSpan.Zero, await Two.TakeMessageTokenAsync("outlook", 2, 2, Start, default));

        // Refilled by the time passed, up to the burst; a clock behind the last take refills nothing.
        Assert.Equal(TimeSpan.Zero, await Two.TakeMessageTokenAsync("google", 2, 2, Start + TimeSpan.FromSeconds(5), default));
        Assert.Equal(TimeSpan.Zero, await One.TakeMessageTokenAsync("google", 2, 2, Start + TimeSpan.FromSeconds(4), default));
        Assert.Equal(TimeSpan.FromSeconds(0.5), await One.TakeMessageTokenAsync("google", 2, 2, Start + TimeSpan.FromSeconds(5), default));
        Assert.True(File.Exists(Path.Combine(_directory, SqliteLimitStore.DatabaseFileName)));
    }

    [Fact]
    public async Task Two_stores_on_one_directory_share_the_connection_slots_and_a_lapsed_lease_frees_one()
    {
        var lease = Start + TimeSpan.FromMinutes(2);
        Assert.True(await One.TryAcquireConnectionSlotAsync("google", 2, "one:1", Start, lease, default));
        Assert.True(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:1", Start, lease, default));
        Assert.False(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:2", Start, lease, default));

        await One.ReleaseConnectionSlotAsync("google", "one:1", default);
        Assert.True(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:2", Start, lease, default));
        Assert.False(await One.TryAcquireConnectionSlotAsync("google", 2, "one:2", Start, lease, default));

        // two:1 renews (taken again by its holder); two:2 lapses at 2 minutes, as a killed process's would.
        Assert.True(await Two.TryAcquireConnectionSlotAsync("google", 2, "two:1", Start + TimeSpan.FromMinutes(1), Start + TimeSpan.FromMinutes(3), default));
        Assert.True(await One.TryAcquireConnectionSlotAsync("google", 2, "one:2", lease, lease + TimeSpan.FromMinutes(2), default));
        Assert.False(await One.TryAcquireConnectionSlotAsync("google", 2, "one:3", lease, lease + TimeSpan.FromMinutes(2), default));
    }

    [Fact]
    public void A_store_that_no_limit_was_asked_of_makes_no_limits_file_and_the_worker_uses_the_store()
    {
        var queue = new MailQueue(_one);
        var worker = new MailQueueWorker(queue, new FakeQueueSender(), null);

        Assert.Same(_one, worker.Limits);
        Assert.False(File.Exists(Path.Combine(_directory, SqliteLimitStore.DatabaseFileName)));
    }
}
