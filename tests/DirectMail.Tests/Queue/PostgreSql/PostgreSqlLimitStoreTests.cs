using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;

namespace DirectMail.Tests.Queue.PostgreSql;

/// <summary>
/// The PostgreSQL store's shared limits kept to the limit store contract by two store instances (each with its own
/// data source, as two application instances have) on one schema: the exact bucket waits, and slots that a holder
/// renews by taking them again (the worker's renewal of a long send) without taking a second one.
/// </summary>
[Collection(PostgreSqlCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostgreSqlLimitStoreTests : QueueLimitStoreContractTests, IAsyncDisposable
{
    private static int _nextSchema;
    private readonly PostgreSqlMailQueueStore _one;
    private readonly PostgreSqlMailQueueStore _two;

    public PostgreSqlLimitStoreTests(PostgreSqlFixture fixture)
    {
        var connectionString = fixture.Database(typeof(PostgreSqlLimitStoreTests));
        var options = new PostgreSqlMailQueueStoreOptions { SchemaName = "l" + Interlocked.Increment(ref _nextSchema) };
        _one = new PostgreSqlMailQueueStore(connectionString, options);
        _two = new PostgreSqlMailQueueStore(connectionString, options);
    }

    protected override IQueueLimitStore One => _one;

    protected override IQueueLimitStore Two => _two;

    public async ValueTask DisposeAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
    }
}
