using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security.MtaSts;
using Npgsql;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// MTA-STS policies kept for the mailer's policy cache in the shared queue's database (RFC 8461 section 5.1: a restart
/// must not forget a domain's <c>enforce</c> policy and open a downgrade window; with several instances, one instance's
/// fetch serves the others after their restart too). A table of its own, <c>mta_sts_policies</c>, created with
/// <c>CREATE TABLE IF NOT EXISTS</c> under an advisory lock (the queue's schema version is not touched). A policy is a
/// cache entry, not mail: one small statement per call, the newer fetch wins when two instances save at once.
/// </summary>
internal sealed class PostgreSqlMtaStsPolicyStore : IMtaStsPolicyStore, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly SideTables _table;

    /// <param name="dataSource">The queue's database (owned by the queue store).</param>
    /// <param name="schemaName">The queue's schema (checked by <see cref="PostgreSqlMailQueueStoreOptions.Validate"/>).</param>
    public PostgreSqlMtaStsPolicyStore(NpgsqlDataSource dataSource, string schemaName)
    {
        _dataSource = dataSource;
        _schema = schemaName;
        _table = new SideTables(dataSource, "directmail.mta_sts." + schemaName, schemaName, $"""
            CREATE TABLE IF NOT EXISTS {schemaName}.mta_sts_policies (
                domain text COLLATE "C" PRIMARY KEY,
                id text NOT NULL,
                policy text NOT NULL,
                fetched_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL
            );
            """);
    }

    public async ValueTask<StoredMtaStsPolicy?> LoadAsync(string domain, CancellationToken cancellationToken)
    {
        await _table.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, $"SELECT id, policy, fetched_at, expires_at FROM {_schema}.mta_sts_policies WHERE domain = $1");
        command.Parameters.AddValue(domain);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredMtaStsPolicy(
            domain,
            reader.GetString(0),
            reader.GetString(1),
            reader.GetFieldValue<DateTimeOffset>(2),
            reader.GetFieldValue<DateTimeOffset>(3));
    }

    public async ValueTask SaveAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await _table.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // The newer fetch wins: an instance saving a policy it fetched earlier never replaces one fetched later.
        await using var save = Sql.Command(connection, null, $"""
            INSERT INTO {_schema}.mta_sts_policies (domain, id, policy, fetched_at, expires_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (domain) DO UPDATE SET id = excluded.id, policy = excluded.policy, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
            WHERE mta_sts_policies.fetched_at <= excluded.fetched_at
            """);
        save.Parameters.AddValue(policy.Domain);
        save.Parameters.AddValue(policy.Id);
        save.Parameters.AddValue(policy.Text);
        save.Parameters.AddTime(policy.FetchedAt);
        save.Parameters.AddTime(policy.ExpiresAt);
        await save.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        // Policies past their max_age are of no use to any instance.
        await using var prune = Sql.Command(connection, null, $"DELETE FROM {_schema}.mta_sts_policies WHERE expires_at < $1");
        prune.Parameters.AddTime(policy.FetchedAt);
        await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _table.Dispose();
}
