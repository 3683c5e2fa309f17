using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security.MtaSts;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// MTA-STS policies kept across restarts for the mailer's policy cache (RFC 8461 section 5.1: a restart must not forget a
/// domain's <c>enforce</c> policy and open a downgrade window), in their own database, <c>mta-sts.db</c> beside
/// <c>queue.db</c>, with its own <c>CREATE TABLE IF NOT EXISTS</c> (the queue's schema version is not touched). A policy
/// is a cache entry, not mail: <c>synchronous=NORMAL</c>, one small statement per call. Opened at first use.
/// </summary>
internal sealed class SqliteMtaStsPolicyStore : IMtaStsPolicyStore, IDisposable
{
    internal const string DatabaseFileName = "mta-sts.db";

    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS mta_sts_policies (
            domain TEXT NOT NULL PRIMARY KEY,
            id TEXT NOT NULL,
            policy TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;

    private readonly SqliteSideDatabase _database;

    public SqliteMtaStsPolicyStore(string directory, TimeSpan busyTimeout) => _database = new SqliteSideDatabase(directory, DatabaseFileName, busyTimeout, Schema);

    public async ValueTask<StoredMtaStsPolicy?> LoadAsync(string domain, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, policy, fetched_at, expires_at FROM mta_sts_policies WHERE domain = $domain";
            command.Parameters.AddWithValue("$domain", domain);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return new StoredMtaStsPolicy(domain, reader.GetString(0), reader.GetString(1), new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero), new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero));
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask SaveAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO mta_sts_policies (domain, id, policy, fetched_at, expires_at) VALUES ($domain, $id, $policy, $fetched, $expires)
                ON CONFLICT (domain) DO UPDATE SET id = excluded.id, policy = excluded.policy, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at;
                DELETE FROM mta_sts_policies WHERE expires_at < $fetched;
                """;
            command.Parameters.AddWithValue("$domain", policy.Domain);
            command.Parameters.AddWithValue("$id", policy.Id);
            command.Parameters.AddWithValue("$policy", policy.Text);
            command.Parameters.AddWithValue("$fetched", policy.FetchedAt.UtcTicks);
            command.Parameters.AddWithValue("$expires", policy.ExpiresAt.UtcTicks);
            command.ExecuteNonQuery();
        }
        finally
        {
            _database.Exit();
        }
    }

    public void Dispose() => _database.Dispose();
}
