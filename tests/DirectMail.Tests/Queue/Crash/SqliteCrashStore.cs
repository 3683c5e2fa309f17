using System;
using System.IO;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>The embedded SQLite store in a temporary directory.</summary>
internal sealed class SqliteCrashStore : CrashStore
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-worker-crash-" + Guid.NewGuid().ToString("N"));

    public override string Name => "sqlite";

    public override string Argument => "sqlite:" + _directory;

    public override IMailQueueStore Open() => new SqliteMailQueueStore(_directory);

    public override void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
