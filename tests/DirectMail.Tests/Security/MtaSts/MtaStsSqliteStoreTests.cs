using System;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue.Sqlite;
using DirectMail.Security.MtaSts;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>MTA-STS policies kept by the SQLite queue store across restarts (<c>mta-sts.db</c> beside the queue).</summary>
public sealed class MtaStsSqliteStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "directmail-sts-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_saved_policy_is_loaded_by_the_next_process_and_replaced_by_a_newer_one()
    {
        // Stops: a restart forgetting an enforce policy (a downgrade window until the next successful fetch).
        var fetched = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var first = new StoredMtaStsPolicy("example.test", "id1", "version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n", fetched, fetched.AddDays(1));
        await using (var store = new SqliteMailQueueStore(_directory))
        {
            await ((IMtaStsPolicyStoreSource)store).MtaStsPolicies.SaveAsync(first, default);
        }

        await using (var reopened = new SqliteMailQueueStore(_directory))
        {
            var policies = ((IMtaStsPolicyStoreSource)reopened).MtaStsPolicies;
            Assert.Equal(first, await policies.LoadAsync("example.test", default));
            Assert.Null(await policies.LoadAsync("other.test", default));

            var second = first with { Id = "id2", FetchedAt = fetched.AddHours(1), ExpiresAt = fetched.AddDays(2) };
            await policies.SaveAsync(second, default);
            Assert.Equal(second, await policies.LoadAsync("example.test", default));
        }

        Assert.True(File.Exists(Path.Combine(_directory, "mta-sts.db")));
    }
}
