using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// Tables kept beside the queue's (MTA-STS policies, TLS report claims and counts) that are created with
/// <c>CREATE ... IF NOT EXISTS</c> on first use, outside the queue's schema version: once per process, in one
/// transaction under an advisory lock, since two instances creating them at once would otherwise collide in the
/// catalog. A failure (the database unreachable) is tried again by the next call.
/// </summary>
internal sealed class SideTables : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _lockName;
    private readonly string _ddl;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    /// <param name="dataSource">The database.</param>
    /// <param name="lockName">The advisory lock's name (hashed), one per set of tables and schema.</param>
    /// <param name="ddl">The statements; <c>CREATE SCHEMA IF NOT EXISTS</c> is run before them.</param>
    /// <param name="schema">The schema the tables are in.</param>
    public SideTables(NpgsqlDataSource dataSource, string lockName, string schema, string ddl)
    {
        _dataSource = dataSource;
        _lockName = lockName;
        _ddl = $"CREATE SCHEMA IF NOT EXISTS {schema};\n{ddl}";
    }

    public async ValueTask EnsureAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var lockCommand = Sql.Command(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext($1))"))
            {
                lockCommand.Parameters.AddValue(_lockName);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var create = Sql.Command(connection, transaction, _ddl))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
