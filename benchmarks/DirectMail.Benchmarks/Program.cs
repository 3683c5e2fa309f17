using System;
using System.Threading.Tasks;
using BenchmarkDotNet.Running;
using DirectMail.Benchmarks.QueueRuns;

namespace DirectMail.Benchmarks;

public static class Program
{
    /// <summary>
    /// BenchmarkDotNet's switcher, or one of the process-level queue runs: <c>queue-enqueue</c> (<see cref="QueueEnqueueRun"/>), <c>queue-deliver</c> (<see cref="QueueDeliveryBenchmarks"/> with a stopwatch), <c>queue-scale</c> (<see cref="QueueScaleRun"/>), <c>relay-check</c> (<see cref="Infrastructure.RelayTimingCheck"/>, the latency relay's own timing).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "queue-enqueue":
                return await QueueEnqueueRun.RunAsync(args[1..]);
            case "queue-deliver":
                return await QueueDeliveryBenchmarks.RunOnceAsync(args[1..]);
            case "queue-scale":
                return await QueueScaleRun.RunAsync(args[1..]);
            case "queue-scale-restart":
                return await QueueScaleRun.RestartAsync(args[1..]);
            case "relay-check":
                return await Infrastructure.RelayTimingCheck.RunAsync();
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }
}
