using System;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The per-destination limits of a <see cref="SqliteMailQueueStore"/>, shared by every process that opens the same
/// directory: token buckets and connection slots in their own database, <c>limits.db</c> beside <c>queue.db</c>.
/// Their own file, so that the many small writes of the limits neither wait for the queue's group commit nor hold its
/// write lock, and with <c>synchronous=NORMAL</c>: a limit is not mail, and a power loss that takes its last commits
/// only lets a few more messages through. Every call is one IMMEDIATE transaction, so processes see one another's
/// takes at once. Opened at first use (a store that no limit applies to never creates the file).
/// </summary>
internal sealed class SqliteLimitStore : IQueueLimitStore, IDisposable
{
    internal const string DatabaseFileName = "limits.db";

    /// <summary>Buckets untouched this long are dropped: a full bucket is the same as none, and no waiter is told to wait a day.</summary>
    private static readonly TimeSpan BucketRetention = TimeSpan.FromDays(1);

    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS buckets (
            key TEXT NOT NULL PRIMARY KEY,
            tokens REAL NOT NULL,
            stamp INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS slots (
            key TEXT NOT NULL,
            holder TEXT NOT NULL,
            lease_until INTEGER NOT NULL,
            PRIMARY KEY (key, holder)
        ) WITHOUT ROWID;
        """;

    // The existing row's columns on the right of SET are the values before the update (SQLite's UPSERT): refill for the
    // time since the last take (never for a clock behind it), cap at the burst, take one.
    private const string TakeSql = """
        INSERT INTO buckets (key, tokens, stamp) VALUES ($key, $burst - 1, $now)
        ON CONFLICT (key) DO UPDATE SET
            tokens = min($burst, tokens + max(0, $now - stamp) * $rate / 10000000.0) - 1,
            stamp = max(stamp, $now)
        RETURNING tokens
        """;

    private readonly SqliteSideDatabase _database;
    private long _prunedAt;

    public SqliteLimitStore(string directory, TimeSpan busyTimeout) => _database = new SqliteSideDatabase(directory, DatabaseFileName, busyTimeout, Schema);

    public async ValueTask<TimeSpan> TakeMessageTokenAsync(string key, double messagesPerSecond, double burst, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = connection.BeginTransaction();
            double tokens;
            using (var take = Command(connection, transaction, TakeSql, key, now))
            {
                take.Parameters.AddWithValue("$rate", messagesPerSecond);
                take.Parameters.AddWithValue("$burst", burst);
                tokens = Convert.ToDouble(take.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            Prune(connection, transaction, now);
            transaction.Commit();
            return tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-tokens / messagesPerSecond);
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask<bool> TryAcquireConnectionSlotAsync(string key, int maxConnections, string holder, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(holder);
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = connection.BeginTransaction();
            bool taken;
            using (var renew = Command(connection, transaction, "UPDATE slots SET lease_until = $lease WHERE key = $key AND holder = $holder", key, now, holder, leaseUntil))
            {
                taken = renew.ExecuteNonQuery() == 1;
            }

            if (!taken)
            {
                using (var expire = Command(connection, transaction, "DELETE FROM slots WHERE key = $key AND lease_until <= $now", key, now))
                {
                    expire.ExecuteNonQuery();
                }

                using var insert = Command(connection, transaction, "INSERT INTO slots (key, holder, lease_until) SELECT $key, $holder, $lease WHERE (SELECT count(*) FROM slots WHERE key = $key) < $max", key, now, holder, leaseUntil);
                insert.Parameters.AddWithValue("$max", maxConnections);
                taken = insert.ExecuteNonQuery() == 1;
            }

            transaction.Commit();
            return taken;
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask ReleaseConnectionSlotAsync(string key, string holder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(holder);
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var release = Command(connection, null, "DELETE FROM slots WHERE key = $key AND holder = $holder", key, default, holder);
            release.ExecuteNonQuery();
        }
        finally
        {
            _database.Exit();
        }
    }

    public void Dispose() => _database.Dispose();

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, string key, DateTimeOffset now, string? holder = null, DateTimeOffset leaseUntil = default)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$now", now.UtcTicks);
        if (holder is not null)
        {
            command.Parameters.AddWithValue("$holder", holder);
            command.Parameters.AddWithValue("$lease", leaseUntil.UtcTicks);
        }

        return command;
    }

    /// <summary>Once an hour (by the callers' clock): drops buckets untouched for a day and slots whose lease has passed.</summary>
    private void Prune(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset now)
    {
        if (now.UtcTicks - _prunedAt < TimeSpan.TicksPerHour)
        {
            return;
        }

        _prunedAt = now.UtcTicks;
        using var prune = connection.CreateCommand();
        prune.Transaction = transaction;
        prune.CommandText = "DELETE FROM buckets WHERE stamp < $old; DELETE FROM slots WHERE lease_until <= $now";
        prune.Parameters.AddWithValue("$old", (now - BucketRetention).UtcTicks);
        prune.Parameters.AddWithValue("$now", now.UtcTicks);
        prune.ExecuteNonQuery();
    }
}
