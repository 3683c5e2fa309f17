using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Smtp;
using DirectMail.Suppression;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite;

/// <summary>
/// The suppression list in the embedded queue's database (<c>queue.db</c> of the store's directory), in a table of its
/// own, <c>suppressions</c>, created when missing (the queue's schema version is not involved, so a queue opened by an
/// older package keeps working). Every write is durable when it returns (<c>synchronous=FULL</c> on its connection);
/// reads run beside the queue's writer (WAL). Addresses are keyed in their compared form (<see cref="ISuppressionStore"/>).
/// </summary>
public sealed class SqliteSuppressionStore : ISuppressionStore, IDisposable
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS suppressions (
            address TEXT NOT NULL PRIMARY KEY,
            source INTEGER NOT NULL,
            classification INTEGER NOT NULL,
            status TEXT,
            diagnostic TEXT,
            suppressed_at INTEGER NOT NULL,
            queue_id TEXT,
            message_id TEXT
        ) WITHOUT ROWID;
        """;

    private const string Columns = "address, source, classification, status, diagnostic, suppressed_at, queue_id, message_id";

    private readonly string _connectionString;
    private int _disposed;

    /// <summary>Opens the list in the queue directory <paramref name="directory"/>, creating the directory (mode 0700), the database and the table as needed.</summary>
    /// <param name="directory">The queue store's directory (the one given to <see cref="SqliteMailQueueStore"/>).</param>
    /// <param name="options">The busy timeout is taken from these; null for the defaults.</param>
    public SqliteSuppressionStore(string directory, SqliteMailQueueStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new SqliteMailQueueStoreOptions();
        options.Validate();
        SqliteMailQueueStore.CreatePrivateDirectory(directory);

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Path.GetFullPath(directory), SqliteMailQueueStore.DatabaseFileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
            Pooling = true,
        }.ConnectionString;
        using var connection = Open(write: true);
        using var create = connection.CreateCommand();
        create.CommandText = Schema;
        create.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public ValueTask AddAsync(SuppressedRecipient entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open(write: true);
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO suppressions ({Columns}) VALUES ($address, $source, $classification, $status, $diagnostic, $at, $queue, $message)
            ON CONFLICT (address) DO UPDATE SET source = excluded.source, classification = excluded.classification, status = excluded.status,
                diagnostic = excluded.diagnostic, suppressed_at = excluded.suppressed_at, queue_id = excluded.queue_id, message_id = excluded.message_id
            """;
        command.Parameters.AddWithValue("$address", entry.Address);
        command.Parameters.AddWithValue("$source", (int)entry.Source);
        command.Parameters.AddWithValue("$classification", (int)entry.Classification);
        command.Parameters.AddWithValue("$status", (object?)entry.Status?.ToString() ?? DBNull.Value);
        command.Parameters.AddWithValue("$diagnostic", (object?)entry.Diagnostic ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", entry.SuppressedAt.UtcTicks);
        command.Parameters.AddWithValue("$queue", (object?)entry.QueueId ?? DBNull.Value);
        command.Parameters.AddWithValue("$message", (object?)entry.MessageId ?? DBNull.Value);
        command.ExecuteNonQuery();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(string address, CancellationToken cancellationToken = default)
    {
        var key = SuppressionAddress.Normalize(address);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open(write: true);
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM suppressions WHERE address = $address";
        command.Parameters.AddWithValue("$address", key);
        return ValueTask.FromResult(command.ExecuteNonQuery() > 0);
    }

    /// <inheritdoc />
    public ValueTask<SuppressedRecipient?> FindAsync(string address, CancellationToken cancellationToken = default)
    {
        var key = SuppressionAddress.Normalize(address);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open(write: false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM suppressions WHERE address = $address";
        command.Parameters.AddWithValue("$address", key);
        using var reader = command.ExecuteReader();
        return ValueTask.FromResult(reader.Read() ? Read(reader) : null);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SuppressedRecipient> ListAsync(string? afterAddress = null, int limit = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var page = new List<SuppressedRecipient>();
        using (var connection = Open(write: false))
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {Columns} FROM suppressions WHERE $after IS NULL OR address > $after ORDER BY address LIMIT $limit";
            command.Parameters.AddWithValue("$after", (object?)afterAddress ?? DBNull.Value);
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (Read(reader) is { } entry)
                {
                    page.Add(entry);
                }
            }
        }

        foreach (var entry in page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return entry;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Closes the pooled connections to the database.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            using var connection = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(connection);
        }
    }

    /// <summary>A pooled connection; one that writes syncs each commit (<c>synchronous=FULL</c>), so a write that returned is durable.</summary>
    private SqliteConnection Open(bool write)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            if (write)
            {
                using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA synchronous = FULL";
                pragma.ExecuteNonQuery();
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>One row, or null when its address is not one (a row written by hand): such a row is skipped, never thrown.</summary>
    private static SuppressedRecipient? Read(SqliteDataReader reader)
    {
        SuppressedRecipient entry;
        try
        {
            var source = reader.GetInt64(1);
            entry = new SuppressedRecipient(reader.GetString(0), Enum.IsDefined((SuppressionSource)source) ? (SuppressionSource)source : SuppressionSource.Manual, new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero))
            {
                Classification = reader.GetInt64(2) is var c && Enum.IsDefined((BounceClassification)c) ? (BounceClassification)c : BounceClassification.Other,
                Status = reader.IsDBNull(3) ? null : Status(reader.GetString(3)),
                Diagnostic = reader.IsDBNull(4) ? null : reader.GetString(4),
                QueueId = reader.IsDBNull(6) ? null : reader.GetString(6),
                MessageId = reader.IsDBNull(7) ? null : reader.GetString(7),
            };
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or FormatException)
        {
            return null;
        }

        return entry;
    }

    private static EnhancedStatusCode? Status(string text) =>
        EnhancedStatusCode.TryParse(text, out var code, out var length) && length == text.Length ? code : null;
}
