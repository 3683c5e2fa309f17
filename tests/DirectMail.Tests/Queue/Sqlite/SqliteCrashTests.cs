using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue.Sqlite;
using Microsoft.Data.Sqlite;

namespace DirectMail.Tests.Queue.Sqlite;

/// <summary>
/// "EnqueueAsync returns only once durable", tested by killing: a probe process enqueues from 8 tasks and prints each id
/// after its EnqueueAsync returned; it is SIGKILLed at random moments, several rounds on the same directory; then every
/// id it printed must be in the store with intact content, and the database must pass SQLite's integrity check.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SqliteCrashTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-crash-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Every_enqueue_that_returned_survives_sigkill()
    {
        var probe = typeof(SqliteCrashTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DirectMailQueueCrashProbe").Value!;
        var random = new Random(20261201);
        var promised = new List<string>();
        for (var round = 0; round < 5; round++)
        {
            // Kill after a random number of acknowledged enqueues, then a random extra pause: mid-batch, mid-fsync or
            // mid-part of a large message, wherever it falls.
            promised.AddRange(await RunAndKillAsync(probe, acknowledgements: random.Next(30, 400), extraPauseMs: random.Next(0, 40)));
        }

        await using var store = new SqliteMailQueueStore(_directory);
        var missing = new List<string>();
        foreach (var id in promised)
        {
            var message = await store.GetAsync(id, default);
            if (message is null)
            {
                missing.Add(id);
                continue;
            }

            await using var content = await store.OpenContentAsync(id, default);
            var bytes = new MemoryStream();
            await content.CopyToAsync(bytes);
            var data = bytes.ToArray();
            Assert.True(data.Length >= 32, $"{id}: {data.Length} octets");
            Assert.True(SHA256.HashData(data.AsSpan(32)).AsSpan().SequenceEqual(data.AsSpan(0, 32)), $"{id}: the content does not match its hash");
            Assert.Equal(data.Length, message.Size);
        }

        Assert.Empty(missing);
        Assert.True(promised.Count >= 150, $"only {promised.Count} enqueues were acknowledged");
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, SqliteMailQueueStore.DatabaseFileName)};Pooling=False");
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    private async Task<List<string>> RunAndKillAsync(string probe, int acknowledgements, int extraPauseMs)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(probe);
        start.ArgumentList.Add("enqueue");
        start.ArgumentList.Add(_directory);
        using var process = Process.Start(start)!;
        var ids = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<string>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 1 } line && line[^1] == ';')
            {
                ids.Enqueue(line[..^1]);
                if (ids.Count >= acknowledgements)
                {
                    enough.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(enough.Task, exited, Task.Delay(TimeSpan.FromMinutes(2)));
        Assert.True(first == enough.Task, $"the probe did not acknowledge {acknowledgements} enqueues: {string.Join(" | ", errors)}");
        await Task.Delay(extraPauseMs);
        // Process.Kill is SIGKILL on Unix: no finalizer, no flush, no dispose runs in the probe.
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        // What the probe printed before it died (an id printed is an enqueue that returned).
        process.WaitForExit();
        return ids.ToList();
    }
}
