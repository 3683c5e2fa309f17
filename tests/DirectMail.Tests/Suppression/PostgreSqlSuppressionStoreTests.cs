using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue.PostgreSql;
using DirectMail.Suppression;
using DirectMail.Tests.Queue.PostgreSql;

namespace DirectMail.Tests.Suppression;

/// <summary>The PostgreSQL store keeps the contract, each test in a schema of its own, and two instances see one list.</summary>
[Collection(PostgreSqlCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostgreSqlSuppressionStoreTests : SuppressionStoreContractTests, IAsyncDisposable
{
    private static int _nextSchema;
    private readonly string _connectionString;
    private readonly PostgreSqlMailQueueStoreOptions _options;
    private readonly PostgreSqlSuppressionStore _store;

    public PostgreSqlSuppressionStoreTests(PostgreSqlFixture fixture)
    {
        _connectionString = fixture.Database(typeof(PostgreSqlSuppressionStoreTests));
        _options = new PostgreSqlMailQueueStoreOptions { SchemaName = "s" + Interlocked.Increment(ref _nextSchema) };
        _store = new PostgreSqlSuppressionStore(_connectionString, _options);
    }

    protected override ISuppressionStore Store => _store;

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task Another_instance_on_the_same_schema_sees_the_entry()
    {
        await using var other = new PostgreSqlSuppressionStore(_connectionString, _options);
        await _store.AddAsync(Bounced("gone@example.net"));

        Assert.Equal("01JQ7ZP3W8X6Y5", (await other.FindAsync("gone@EXAMPLE.net"))?.QueueId);
        Assert.True(await other.RemoveAsync("gone@example.net"));
        Assert.Null(await _store.FindAsync("gone@example.net"));
    }
}
