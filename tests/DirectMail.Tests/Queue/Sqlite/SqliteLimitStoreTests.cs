using System;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Queue.Sqlite.Internal;

namespace DirectMail.Tests.Queue.Sqlite;

/// <summary>
/// The SQLite store's shared limits: two stores opened on one directory (each with its own connections, as two
/// processes have) keep the limit store contract together.
/// </summary>
public sealed class SqliteLimitStoreTests : QueueLimitStoreContractTests, IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-limits-" + Guid.NewGuid().ToString("N"), "queue");
    private readonly SqliteMailQueueStore _one;
    private readonly SqliteMailQueueStore _two;

    public SqliteLimitStoreTests()
    {
        _one = new SqliteMailQueueStore(_directory);
        _two = new SqliteMailQueueStore(_directory);
    }

    protected override IQueueLimitStore One => _one;

    protected override IQueueLimitStore Two => _two;

    private string LimitsFile => Path.Combine(_directory, SqliteLimitStore.DatabaseFileName);

    public async ValueTask DisposeAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
    }

    [Fact]
    public async Task The_limits_live_in_their_own_file_made_at_first_use_and_the_worker_uses_the_store()
    {
        var worker = new MailQueueWorker(new MailQueue(_one), new FakeQueueSender(), null);
        Assert.Same(_one, worker.Limits);
        Assert.False(File.Exists(LimitsFile));

        await One.TakeMessageTokenAsync("google", 1, 1, Start, default);

        Assert.True(File.Exists(LimitsFile));
    }
}
