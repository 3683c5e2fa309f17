using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The one writer of the database (group commit). Every write (enqueues, claims, marks, completions, operations)
/// waits in a channel; the loop takes all that are waiting, up to the batch limit, runs them in one IMMEDIATE
/// transaction, each inside its own savepoint, and commits once. The commit only appends to the WAL
/// (<c>synchronous=NORMAL</c>); the <see cref="WalFlusher"/> then fsyncs it and only then completes the batch's
/// tasks, while this loop already runs the next batch: the fsync of one batch overlaps the statements of the next,
/// and the more producers wait, the more share each fsync. A write that throws rolls back to its savepoint and fails
/// alone; a failed commit fails the batch.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly Channel<SqliteWrite> _writes = Channel.CreateUnbounded<SqliteWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly SqliteWriteContext _context;
    private readonly WalFlusher _flusher;
    private readonly int _maxBatch;
    private readonly Task _loop;

    /// <param name="connection">The writer connection, open, in WAL mode with synchronous=NORMAL.</param>
    /// <param name="walPath">Its WAL file, fsynced after every commit.</param>
    /// <param name="logger">For failed commits and syncs.</param>
    /// <param name="maxBatch">The most writes in one transaction.</param>
    public SqliteWriter(SqliteConnection connection, string walPath, ILogger logger, int maxBatch)
    {
        _connection = connection;
        _context = new SqliteWriteContext(connection, logger);
        _flusher = new WalFlusher(walPath, logger);
        _maxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues a write for the next batch; its task completes once that batch is committed and synced.</summary>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    /// <exception cref="IOException">An earlier fsync of the WAL failed: the store is faulted.</exception>
    public Task<TResult> WriteAsync<TResult>(SqliteWrite<TResult> write)
    {
        if (_flusher.Fault is { } fault)
        {
            return Task.FromException<TResult>(fault);
        }

        if (!_writes.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(SqliteMailQueueStore));
        }

        return write.Completion;
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await _flusher.DisposeAsync().ConfigureAwait(false);
        _context.Dispose();
    }

    private async Task RunAsync()
    {
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // A list per batch: the flusher holds it until the fsync that covers it.
            var batch = new List<SqliteWrite>(Math.Min(_maxBatch, 64));
            while (batch.Count < _maxBatch && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (await CommitAsync(batch).ConfigureAwait(false))
            {
                _flusher.Add(batch);
            }
        }
    }

    /// <returns>True once committed (the flusher completes the writes); false when the commit failed and every write was failed.</returns>
    private async Task<bool> CommitAsync(List<SqliteWrite> batch)
    {
        // The writes' own failures, and which ones were skipped as cancelled, are known before the commit; the callers
        // learn them only after the fsync, so that nobody hears "done" for a write a failed commit then took back.
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            _context.Begin(transaction);
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                if (write.CancellationToken.IsCancellationRequested)
                {
                    write.Skipped = true;
                    continue;
                }

                _context.Command("SAVEPOINT write").ExecuteNonQuery();
                try
                {
                    await write.ExecuteAsync(_context).ConfigureAwait(false);
                    _context.Command("RELEASE write").ExecuteNonQuery();
                }
                catch (Exception exception)
                {
                    _context.Command("ROLLBACK TO write; RELEASE write").ExecuteNonQuery();
                    write.Failure = exception;
                }
            }

            transaction.Commit();
            return true;
        }
        catch (Exception exception)
        {
            SqliteQueueLog.BatchFailed(_context.Logger, exception, batch.Count);
            foreach (var write in batch)
            {
                if (write.Skipped)
                {
                    write.Cancel();
                }
                else
                {
                    write.Fail(write.Failure ?? exception);
                }
            }

            return false;
        }
        finally
        {
            _context.End();
        }
    }
}
