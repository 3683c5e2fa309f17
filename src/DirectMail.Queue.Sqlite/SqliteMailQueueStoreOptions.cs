using System;

namespace DirectMail.Queue.Sqlite;

/// <summary>How a <see cref="SqliteMailQueueStore"/> uses its database.</summary>
public sealed class SqliteMailQueueStoreOptions
{
    /// <summary>
    /// How long a statement waits for the database when another process holds its write lock before it fails.
    /// Default 30 seconds: long enough for another instance's batch or checkpoint, short enough to surface a stuck one.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most writes committed together in one transaction (one fsync). Default 512: with 10 KB messages a full
    /// batch is about 5 MB of WAL, which keeps one commit short while still sharing each fsync among many producers.
    /// </summary>
    public int MaxBatchSize { get; set; } = 512;

    internal void Validate()
    {
        if (BusyTimeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(BusyTimeout), BusyTimeout, "The busy timeout must be at least one second.");
        }

        if (MaxBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "A batch holds at least one write.");
        }
    }
}
