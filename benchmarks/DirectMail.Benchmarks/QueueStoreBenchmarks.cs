using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks;

/// <summary>
/// Durable <see cref="IMailQueueStore.EnqueueAsync"/> on the SQLite store from 8 concurrent producers: each operation is
/// one message that has been committed and fsynced (WAL, synchronous=FULL) when its call returns; the producers share
/// each fsync through the store's group commit. The Op/s column is messages per second. The store lives on the real
/// disk (the temporary directory), each iteration in a fresh directory.
/// Run: <c>dotnet run -c Release --project benchmarks/DirectMail.Benchmarks -- --filter '*QueueStore*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class QueueStoreBenchmarks
{
    private const int Producers = 8;
    private const int MessagesPerProducer = 250;
    private const int Messages = Producers * MessagesPerProducer;

    private byte[] _content = [];
    private string _directory = "";
    private SqliteMailQueueStore _store = null!;
    private int _iteration;

    /// <summary>The content size in octets: 10 KB and 100 KB, as in the targets.</summary>
    [Params(10 * 1024, 100 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _content = new byte[Size];
        new Random(Size).NextBytes(_content);
    }

    [IterationSetup]
    public void OpenStore()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"dm-bench-queue-{Environment.ProcessId}-{_iteration++}");
        _store = new SqliteMailQueueStore(_directory);
    }

    [IterationCleanup]
    public void CloseStore()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Messages, Description = "durable EnqueueAsync, 8 producers")]
    public Task Enqueue() => StoreProducers.EnqueueAsync(_store, _content, Producers, MessagesPerProducer, _iteration);
}
