using Microsoft.Extensions.Logging;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>The SQLite store's log lines (event ids 7100-7199).</summary>
internal static partial class SqliteQueueLog
{
    [LoggerMessage(EventId = 7100, Level = LogLevel.Warning, Message = "Queued message {MessageId} quarantined (its recipients are Held): {Reason}")]
    public static partial void Quarantined(ILogger logger, string messageId, string reason);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Queued message {MessageId}: the lease of an earlier claim expired; {Recipients} recipients in flight are now in doubt")]
    public static partial void InFlightInDoubt(ILogger logger, string messageId, int recipients);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Error, Message = "A batch of {Writes} queue writes could not be committed")]
    public static partial void BatchFailed(ILogger logger, System.Exception exception, int writes);

    // Trace: one line per fsync, to see how well the group commit batches (writes per fsync) and pipelines (batches per fsync).
    [LoggerMessage(EventId = 7103, Level = LogLevel.Trace, Message = "WAL synced: {Writes} writes of {Batches} committed batches in one fsync")]
    public static partial void Synced(ILogger logger, int writes, int batches);
}
