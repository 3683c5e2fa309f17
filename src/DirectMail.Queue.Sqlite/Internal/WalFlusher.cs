using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// Makes the writer's commits durable and only then hands their outcomes over. The writer connection runs with
/// <c>synchronous=NORMAL</c>, so a commit is the WAL append alone; this loop fsyncs the WAL file and completes every
/// batch committed before that fsync began. The writer meanwhile runs the next batch, so the fsync of one batch and the
/// statements of the next overlap (pipelined group commit), and all batches committed while one fsync was running share
/// the next. A caller hears "done" only after the fsync that covers its commit, as with <c>synchronous=FULL</c>.
/// </summary>
/// <remarks>
/// Readers on other connections may see a commit during the fraction of a millisecond before its fsync ends (FULL
/// would hide it until then); nothing irrevocable follows from a read: a claim is itself a write, and the end of a
/// message goes out only after the fsynced InFlight mark, whose fsync covers every earlier commit.
/// A failed fsync is not retried: the kernel may already have dropped the pages it could not write, so a later fsync
/// that succeeds proves nothing about them. The store is then faulted: the waiting batches and every later write fail,
/// and it must be reopened (SQLite recovers the WAL up to the last commit that reached the disk).
/// </remarks>
internal sealed class WalFlusher : IAsyncDisposable
{
    private readonly Channel<List<SqliteWrite>> _committed = Channel.CreateUnbounded<List<SqliteWrite>>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly FileStream _wal;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private Exception? _fault;

    /// <param name="walPath">The database's WAL file (<c>queue.db-wal</c>), which SQLite keeps while the writer connection is open.</param>
    /// <param name="logger">Where a failed fsync is logged.</param>
    public WalFlusher(string walPath, ILogger logger)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            // Write access: FlushFileBuffers needs it on Windows. SQLite must keep reading, writing and deleting the file.
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        _wal = new FileStream(walPath, options);
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The failed fsync that faulted the store, or null.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>Hands over a committed batch; its writes complete once the WAL is fsynced.</summary>
    public void Add(List<SqliteWrite> batch) => _committed.Writer.TryWrite(batch);

    /// <summary>Fsyncs and completes what is still waiting, then closes the WAL file.</summary>
    public async ValueTask DisposeAsync()
    {
        _committed.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await _wal.DisposeAsync().ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _committed.Reader;
        var waiting = new List<List<SqliteWrite>>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Everything committed so far is in the file: one fsync covers all of it.
            while (reader.TryRead(out var batch))
            {
                waiting.Add(batch);
            }

            var failure = Volatile.Read(ref _fault);
            if (failure is null)
            {
                try
                {
                    _wal.Flush(flushToDisk: true);
                }
                catch (Exception exception)
                {
                    failure = new IOException(
                        "The queue database's write-ahead log could not be synced to disk; the store is faulted and must be reopened.", exception);
                    Volatile.Write(ref _fault, failure);
                    var writes = 0;
                    foreach (var batch in waiting)
                    {
                        writes += batch.Count;
                    }

                    SqliteQueueLog.BatchFailed(_logger, exception, writes);
                }
            }

            if (failure is null && _logger.IsEnabled(LogLevel.Trace))
            {
                var writes = 0;
                foreach (var batch in waiting)
                {
                    writes += batch.Count;
                }

                SqliteQueueLog.Synced(_logger, writes, waiting.Count);
            }

            foreach (var batch in waiting)
            {
                foreach (var write in batch)
                {
                    if (failure is null)
                    {
                        write.Settle();
                    }
                    else
                    {
                        write.Fail(failure);
                    }
                }
            }

            waiting.Clear();
        }
    }
}
