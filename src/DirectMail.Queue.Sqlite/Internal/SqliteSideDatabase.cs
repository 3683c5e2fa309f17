using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// A small database of its own beside <c>queue.db</c> (<c>limits.db</c>, <c>mta-sts.db</c>): one connection, opened and
/// given its schema at first use, used by one caller at a time (<see cref="EnterAsync"/>, <see cref="Exit"/>), so that
/// its writes neither wait for the queue's group commit nor hold the queue's write lock.
/// </summary>
internal sealed class SqliteSideDatabase : IDisposable
{
    private readonly string _connectionString;
    private readonly string _schema;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;
    private bool _disposed;

    /// <param name="directory">The store's directory.</param>
    /// <param name="fileName">The database's file name in it.</param>
    /// <param name="busyTimeout">How long to wait for another process's lock.</param>
    /// <param name="schema">Run once on the new connection: pragmas and <c>CREATE TABLE IF NOT EXISTS</c>.</param>
    public SqliteSideDatabase(string directory, string fileName, TimeSpan busyTimeout, string schema)
    {
        _schema = schema;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, fileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
            Pooling = false,
        }.ConnectionString;
    }

    /// <summary>Waits for the connection; the caller uses it, then calls <see cref="Exit"/>.</summary>
    public async ValueTask<SqliteConnection> EnterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Open();
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    public void Exit() => _gate.Release();

    public void Dispose()
    {
        _gate.Wait();
        try
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The connection, opened (and the tables made) at first use. Called under the gate.</summary>
    private SqliteConnection Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is not null)
        {
            return _connection;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var schema = connection.CreateCommand();
            schema.CommandText = _schema;
            schema.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return _connection = connection;
    }
}
