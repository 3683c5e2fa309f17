using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Queue.PostgreSql.Internal;
using DirectMail.Smtp;
using DirectMail.Suppression;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql;

/// <summary>
/// The suppression list in the shared queue's database: the table <c>suppressions</c> in the queue's schema
/// (<see cref="PostgreSqlMailQueueStoreOptions.SchemaName"/>), created on first use with <c>CREATE TABLE IF NOT EXISTS</c>
/// (the queue's schema version is not involved). Every instance on the database sees one list. Addresses are keyed in
/// their compared form (<see cref="ISuppressionStore"/>), with the <c>"C"</c> collation (exact, byte order).
/// </summary>
public sealed class PostgreSqlSuppressionStore : ISuppressionStore, IAsyncDisposable
{
    private const string Columns = "address, source, classification, status, diagnostic, suppressed_at, queue_id, message_id";

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _table;
    private readonly string _create;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;
    private int _disposed;

    /// <summary>Opens the list on a data source the caller owns (and disposes after the store).</summary>
    /// <param name="dataSource">The queue's database.</param>
    /// <param name="options">The schema is taken from these; null for the defaults.</param>
    /// <exception cref="ArgumentException">The schema name is not a plain identifier.</exception>
    public PostgreSqlSuppressionStore(NpgsqlDataSource dataSource, PostgreSqlMailQueueStoreOptions? options = null)
        : this(dataSource, ownsDataSource: false, options)
    {
    }

    /// <summary>Opens the list on its own data source made from <paramref name="connectionString"/> (disposed with the store).</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="options">The schema is taken from these; null for the defaults.</param>
    /// <exception cref="ArgumentException">The connection string or the schema name is invalid.</exception>
    public PostgreSqlSuppressionStore(string connectionString, PostgreSqlMailQueueStoreOptions? options = null)
        : this(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, options)
    {
    }

    private PostgreSqlSuppressionStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgreSqlMailQueueStoreOptions? options)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlMailQueueStoreOptions();
        options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        var schema = options.SchemaName;
        _table = schema + ".suppressions";
        _create = $"""
            SELECT pg_advisory_xact_lock(hashtext('directmail.suppressions'));
            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE TABLE IF NOT EXISTS {_table} (
                address text COLLATE "C" PRIMARY KEY,
                source smallint NOT NULL,
                classification smallint NOT NULL,
                status text,
                diagnostic text,
                suppressed_at timestamptz NOT NULL,
                queue_id text,
                message_id text
            );
            """;
    }

    /// <inheritdoc />
    public async ValueTask AddAsync(SuppressedRecipient entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, $"""
            INSERT INTO {_table} ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (address) DO UPDATE SET source = excluded.source, classification = excluded.classification, status = excluded.status,
                diagnostic = excluded.diagnostic, suppressed_at = excluded.suppressed_at, queue_id = excluded.queue_id, message_id = excluded.message_id
            """);
        command.Parameters.AddValue(entry.Address);
        command.Parameters.AddValue((short)entry.Source);
        command.Parameters.AddValue((short)entry.Classification);
        Text(command.Parameters, entry.Status?.ToString());
        Text(command.Parameters, entry.Diagnostic);
        command.Parameters.AddTime(entry.SuppressedAt);
        Text(command.Parameters, entry.QueueId);
        Text(command.Parameters, entry.MessageId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveAsync(string address, CancellationToken cancellationToken = default)
    {
        var key = SuppressionAddress.Normalize(address);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, $"DELETE FROM {_table} WHERE address = $1");
        command.Parameters.AddValue(key);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async ValueTask<SuppressedRecipient?> FindAsync(string address, CancellationToken cancellationToken = default)
    {
        var key = SuppressionAddress.Normalize(address);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, $"SELECT {Columns} FROM {_table} WHERE address = $1");
        command.Parameters.AddValue(key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SuppressedRecipient> ListAsync(string? afterAddress = null, int limit = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, $"SELECT {Columns} FROM {_table} WHERE $1::text IS NULL OR address > $1 ORDER BY address LIMIT $2");
        Text(command.Parameters, afterAddress);
        command.Parameters.AddValue(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (Read(reader) is { } entry)
            {
                yield return entry;
            }
        }
    }

    /// <summary>Disposes the data source when the store made it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _schemaGate.Dispose();
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask EnsureTableAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_schemaReady)
        {
            return;
        }

        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_schemaReady)
            {
                // One transaction under an advisory lock: instances starting at once do not race on CREATE.
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (var command = Sql.Command(connection, transaction, _create))
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                _schemaReady = true;
            }
        }
        finally
        {
            _schemaGate.Release();
        }
    }

    private static void Text(NpgsqlParameterCollection parameters, string? value)
        => parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });

    /// <summary>One row, or null when its address is not one (a row written by hand): skipped, never thrown.</summary>
    private static SuppressedRecipient? Read(NpgsqlDataReader reader)
    {
        try
        {
            var source = (SuppressionSource)reader.GetInt16(1);
            var classification = (BounceClassification)reader.GetInt16(2);
            return new SuppressedRecipient(reader.GetString(0), Enum.IsDefined(source) ? source : SuppressionSource.Manual, reader.GetFieldValue<DateTimeOffset>(5))
            {
                Classification = Enum.IsDefined(classification) ? classification : BounceClassification.Other,
                Status = reader.IsDBNull(3) ? null : Status(reader.GetString(3)),
                Diagnostic = reader.IsDBNull(4) ? null : reader.GetString(4),
                QueueId = reader.IsDBNull(6) ? null : reader.GetString(6),
                MessageId = reader.IsDBNull(7) ? null : reader.GetString(7),
            };
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static EnhancedStatusCode? Status(string text) =>
        EnhancedStatusCode.TryParse(text, out var code, out var length) && length == text.Length ? code : null;
}
