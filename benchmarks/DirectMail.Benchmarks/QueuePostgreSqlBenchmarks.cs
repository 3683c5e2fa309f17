using System;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Benchmarks;

/// <summary>
/// Durable <see cref="IMailQueueStore.EnqueueAsync"/> on the PostgreSQL store from 8 concurrent producers, 10 KB each:
/// every operation is one message whose transaction has committed (fsync on) when its call returns; concurrent commits
/// share WAL flushes inside PostgreSQL. The Op/s column is messages per second. The benchmark starts its own server
/// (Debian's postgresql: initdb and pg_ctl in a temporary folder, as the postgres user when run as root) on
/// 127.0.54.33:55433, and each iteration writes into a fresh schema.
/// Run (in a private network namespace, as the tests): <c>unshare -n -- bash -c 'ip link set lo up &amp;&amp; dotnet run -c Release
/// --project benchmarks/DirectMail.Benchmarks -- --filter "*QueuePostgreSql*" --job short'</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class QueuePostgreSqlBenchmarks
{
    private const int Producers = 8;
    private const int MessagesPerProducer = 250;
    private const int Messages = Producers * MessagesPerProducer;
    private const int Size = 10 * 1024;

    private byte[] _content = [];
    private PostgreSqlServer _server = null!;
    private string _connectionString = "";
    private PostgreSqlMailQueueStore _store = null!;
    private int _iteration;

    [GlobalSetup]
    public void Setup()
    {
        _content = new byte[Size];
        new Random(Size).NextBytes(_content);
        _server = new PostgreSqlServer(IPAddress.Parse("127.0.54.33"), 55433);
        _connectionString = _server.CreateDatabase("bench");
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [IterationSetup]
    public void OpenStore()
    {
        _store = new PostgreSqlMailQueueStore(_connectionString, new PostgreSqlMailQueueStoreOptions { SchemaName = $"i{_iteration++}" });
        // The schema is made here, outside the measured operation.
        _store.GetStatisticsAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void CloseStore() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Messages, Description = "durable EnqueueAsync, 8 producers, 10 KB, PostgreSQL")]
    public Task Enqueue() => StoreProducers.EnqueueAsync(_store, _content, Producers, MessagesPerProducer, _iteration);
}
