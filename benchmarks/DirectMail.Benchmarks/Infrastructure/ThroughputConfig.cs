using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>Adds the Op/s column: with OperationsPerInvoke set to the messages of a batch, it reads as messages per second.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(StatisticColumn.OperationsPerSecond);
}
