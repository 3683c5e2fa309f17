using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue.PostgreSql;
using DirectMail.Security.MtaSts;
using DirectMail.Tests.Queue.PostgreSql;
using Npgsql;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>
/// MTA-STS policies kept in the shared PostgreSQL queue's database: two queue stores, each with its own data source
/// (two application instances), on one schema of a real PostgreSQL.
/// </summary>
[Collection(PostgreSqlCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MtaStsPostgreSqlStoreTests : IAsyncDisposable
{
    private const string EnforceText = "version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n";
    private static int _nextSchema;
    private static readonly DateTimeOffset Fetched = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private readonly PostgreSqlMailQueueStore _one;
    private readonly PostgreSqlMailQueueStore _two;

    public MtaStsPostgreSqlStoreTests(PostgreSqlFixture fixture)
    {
        var connectionString = fixture.Database(typeof(MtaStsPostgreSqlStoreTests));
        var options = new PostgreSqlMailQueueStoreOptions { SchemaName = "sts" + Interlocked.Increment(ref _nextSchema) };
        _one = new PostgreSqlMailQueueStore(connectionString, options);
        _two = new PostgreSqlMailQueueStore(connectionString, options);
    }

    private IMtaStsPolicyStore One => ((IMtaStsPolicyStoreSource)_one).MtaStsPolicies;

    private IMtaStsPolicyStore Two => ((IMtaStsPolicyStoreSource)_two).MtaStsPolicies;

    [Fact]
    public async Task A_policy_one_instance_saved_is_loaded_by_another_exactly()
    {
        // Stops: an instance restarting without the enforce policy another instance fetched (a downgrade window).
        var policy = new StoredMtaStsPolicy("example.test", "id1", EnforceText, Fetched, Fetched.AddDays(1));
        await One.SaveAsync(policy, default);

        Assert.Equal(policy, await Two.LoadAsync("example.test", default));
        Assert.Null(await Two.LoadAsync("other.test", default));
    }

    [Fact]
    public async Task A_newer_fetch_replaces_the_policy_and_an_older_one_saved_late_does_not()
    {
        // Stops: an instance that fetched earlier (a slow fetch finishing late) overwriting a newer policy id.
        var older = new StoredMtaStsPolicy("race.test", "old", EnforceText, Fetched, Fetched.AddDays(1));
        var newer = older with { Id = "new", Text = EnforceText.Replace("enforce", "testing", StringComparison.Ordinal), FetchedAt = Fetched.AddHours(1), ExpiresAt = Fetched.AddDays(2) };

        await One.SaveAsync(older, default);
        await Two.SaveAsync(newer, default);
        Assert.Equal(newer, await One.LoadAsync("race.test", default));

        await One.SaveAsync(older, default);
        Assert.Equal(newer, await Two.LoadAsync("race.test", default));
    }

    [Fact]
    public async Task Policies_past_their_max_age_are_dropped_by_the_next_save()
    {
        var expired = new StoredMtaStsPolicy("expired.test", "e", EnforceText, Fetched, Fetched.AddHours(1));
        await One.SaveAsync(expired, default);
        Assert.Equal(expired, await Two.LoadAsync("expired.test", default));

        await Two.SaveAsync(new StoredMtaStsPolicy("fresh.test", "f", EnforceText, Fetched.AddHours(2), Fetched.AddDays(1)), default);

        Assert.Null(await One.LoadAsync("expired.test", default));
        Assert.NotNull(await One.LoadAsync("fresh.test", default));
    }

    public async ValueTask DisposeAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
    }
}
