using System;
using System.Collections.Generic;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The one writer of the database (group commit). Every write (enqueues, claims, marks, completions, operations)
/// waits in a channel; the loop takes all that are waiting, up to the batch limit, runs them in one IMMEDIATE
/// transaction, each inside its own savepoint, commits once (one WAL fsync for the whole batch) and only then
/// completes their tasks. While one batch is being synced the next one gathers, so the more producers wait, the more
/// share each fsync. A write that throws rolls back to its savepoint and fails alone; a failed commit fails the batch.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly Channel<SqliteWrite> _writes = Channel.CreateUnbounded<SqliteWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly SqliteWriteContext _context;
    private readonly int _maxBatch;
    private readonly Task _loop;

    public SqliteWriter(SqliteConnection connection, ILogger logger, int maxBatch)
    {
        _connection = connection;
        _context = new SqliteWriteContext(connection, logger);
        _maxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues a write for the next batch; its task completes once that batch is committed.</summary>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public Task<TResult> WriteAsync<TResult>(SqliteWrite<TResult> write)
    {
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
        _context.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<SqliteWrite>(_maxBatch);
        var failures = new Exception?[_maxBatch];
        var skipped = new bool[_maxBatch];
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < _maxBatch && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            await CommitAsync(batch, failures, skipped).ConfigureAwait(false);
            batch.Clear();
            Array.Clear(failures);
            Array.Clear(skipped);
        }
    }

    private async Task CommitAsync(List<SqliteWrite> batch, Exception?[] failures, bool[] skipped)
    {
        // The writes' own failures, and which ones were skipped as cancelled, are known before the commit; the callers
        // learn them only after it, so that nobody hears "done" for a write a failed commit then took back.
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            _context.Begin(transaction);
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                if (write.CancellationToken.IsCancellationRequested)
                {
                    skipped[i] = true;
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
                    failures[i] = exception;
                }
            }

            transaction.Commit();
        }
        catch (Exception exception)
        {
            SqliteQueueLog.BatchFailed(_context.Logger, exception, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                if (skipped[i])
                {
                    batch[i].Cancel();
                }
                else
                {
                    batch[i].Fail(failures[i] ?? exception);
                }
            }

            return;
        }
        finally
        {
            _context.End();
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (skipped[i])
            {
                batch[i].Cancel();
            }
            else if (failures[i] is { } failure)
            {
                batch[i].Fail(failure);
            }
            else
            {
                batch[i].Succeed();
            }
        }
    }
}
