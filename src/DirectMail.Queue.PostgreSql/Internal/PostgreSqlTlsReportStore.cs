using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security.TlsRpt;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// The TLS report claims (RFC 8460 reports, one per domain a day) of every instance on one PostgreSQL schema: a table
/// of its own, <c>tlsrpt_claims</c>, created with <c>CREATE TABLE IF NOT EXISTS</c> (the queue's schema version is not
/// touched). A claim is one upsert: the row lock makes two instances claiming at once take turns, and one wins.
/// </summary>
internal sealed class PostgreSqlTlsReportStore : ITlsReportStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schema;
    private readonly SemaphoreSlim _tableGate = new(1, 1);
    private volatile bool _tableReady;

    /// <param name="dataSource">The database.</param>
    /// <param name="ownsDataSource">Whether disposing the store disposes the data source.</param>
    /// <param name="schemaName">The schema (the queue's; checked by <see cref="PostgreSqlMailQueueStoreOptions.Validate"/>).</param>
    public PostgreSqlTlsReportStore(NpgsqlDataSource dataSource, bool ownsDataSource, string schemaName)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _schema = schemaName;
    }

    public async ValueTask<bool> TryClaimAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // An unsent claim whose time has passed (its holder died) or that is the caller's own is taken over; a sent one never.
        await using var claim = Sql.Command(connection, null, $"""
            INSERT INTO {_schema}.tlsrpt_claims (policy_domain, day, holder, claimed_until) VALUES ($1, $2, $3, $4)
            ON CONFLICT (policy_domain, day) DO UPDATE SET holder = excluded.holder, claimed_until = excluded.claimed_until
            WHERE tlsrpt_claims.sent_at IS NULL AND (tlsrpt_claims.claimed_until <= $5 OR tlsrpt_claims.holder = excluded.holder)
            """);
        claim.Parameters.AddValue(policyDomain);
        claim.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day, NpgsqlDbType = NpgsqlDbType.Date });
        claim.Parameters.AddValue(holder);
        claim.Parameters.AddTime(claimUntil);
        claim.Parameters.AddTime(now);
        var claimed = await claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;

        // Claims are kept a week past their day, then dropped: no report is claimed again that late.
        await using var prune = Sql.Command(connection, null, $"DELETE FROM {_schema}.tlsrpt_claims WHERE day < $1");
        prune.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-8), NpgsqlDbType = NpgsqlDbType.Date });
        await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return claimed;
    }

    public async ValueTask MarkSentAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var sent = Sql.Command(connection, null, $"UPDATE {_schema}.tlsrpt_claims SET sent_at = $4 WHERE policy_domain = $1 AND day = $2 AND holder = $3");
        AddKey(sent, policyDomain, day, holder);
        sent.Parameters.AddTime(now);
        await sent.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReleaseAsync(string policyDomain, DateOnly day, string holder, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var release = Sql.Command(connection, null, $"DELETE FROM {_schema}.tlsrpt_claims WHERE policy_domain = $1 AND day = $2 AND holder = $3 AND sent_at IS NULL");
        AddKey(release, policyDomain, day, holder);
        await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _tableGate.Dispose();
    }

    private static void AddKey(NpgsqlCommand command, string policyDomain, DateOnly day, string holder)
    {
        command.Parameters.AddValue(policyDomain);
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day, NpgsqlDbType = NpgsqlDbType.Date });
        command.Parameters.AddValue(holder);
    }

    /// <summary>Creates the table once, under an advisory lock: two instances creating it at once would otherwise collide in the catalog.</summary>
    private async ValueTask EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_tableReady)
        {
            return;
        }

        await _tableGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tableReady)
            {
                return;
            }

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var lockCommand = Sql.Command(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext($1))"))
            {
                lockCommand.Parameters.AddValue("directmail.tlsrpt." + _schema);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var schema = Sql.Command(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {_schema}"))
            {
                await schema.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var create = Sql.Command(connection, transaction, $"""
                CREATE TABLE IF NOT EXISTS {_schema}.tlsrpt_claims (
                    policy_domain text NOT NULL,
                    day date NOT NULL,
                    holder text NOT NULL,
                    claimed_until timestamptz NOT NULL,
                    sent_at timestamptz,
                    PRIMARY KEY (policy_domain, day)
                )
                """))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            _tableReady = true;
        }
        finally
        {
            _tableGate.Release();
        }
    }
}
