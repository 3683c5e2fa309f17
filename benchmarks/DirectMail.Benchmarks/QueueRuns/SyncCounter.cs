using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace DirectMail.Benchmarks.QueueRuns;

/// <summary>
/// A logger of the SQLite store that counts its "WAL synced" trace lines (event 7103): fsyncs, the writes they made
/// durable and the committed batches they covered, so a run can say how well the group commit shares each fsync.
/// </summary>
internal sealed class SyncCounter : ILogger<DirectMail.Queue.Sqlite.SqliteMailQueueStore>
{
    private long _fsyncs;
    private long _writes;
    private long _batches;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id != 7103)
        {
            if (logLevel >= LogLevel.Warning)
            {
                Console.Error.WriteLine(formatter(state, exception));
            }

            return;
        }

        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                if (key == "Writes")
                {
                    Interlocked.Add(ref _writes, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                }
                else if (key == "Batches")
                {
                    Interlocked.Add(ref _batches, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                }
            }
        }

        Interlocked.Increment(ref _fsyncs);
    }

    public void Reset()
    {
        _fsyncs = 0;
        _writes = 0;
        _batches = 0;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{_fsyncs} fsyncs, {(double)_writes / Math.Max(1, _fsyncs):F1} writes and {(double)_batches / Math.Max(1, _fsyncs):F2} batches per fsync");
}
