using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>One SIGKILL of the run: which worker slot, how long after the previous (re)start, and what it had recorded.</summary>
internal sealed record CrashKill(int Round, int Slot, int ProcessId, TimeSpan After, string Progress)
{
    public override string ToString() =>
        $"kill {Round}: slot {Slot}, pid {ProcessId}, {After.TotalMilliseconds:F0} ms after it was delivering; it had recorded {Progress["progress ".Length..]}";
}

/// <summary>
/// Probe workers on one store, side by side (one or several slots), killed one at a time at seeded random moments
/// and restarted at once; at the end stopped with SIGTERM, and the queue drained by one last worker run until empty.
/// </summary>
internal sealed class CrashWorkerFleet : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly IReadOnlyList<string> _arguments;
    private readonly CrashWorkerProcess?[] _slots;
    private readonly List<string> _errors = new();

    public CrashWorkerFleet(int size, IReadOnlyList<string> arguments)
    {
        _arguments = arguments;
        _slots = new CrashWorkerProcess?[size];
    }

    public List<CrashKill> Kills { get; } = new();

    /// <summary>What every worker process of the run logged on standard error, with its process id.</summary>
    public IReadOnlyList<string> Errors => _errors;

    public async Task StartAsync()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = CrashWorkerProcess.Start(_arguments);
        }

        foreach (var worker in _slots)
        {
            await worker!.WaitStartedAsync(StartTimeout);
        }
    }

    /// <summary>
    /// <paramref name="kills"/> times: picks a random slot, waits until its worker is delivering (a process just
    /// started is still opening its store and compiling), then a random gap, SIGKILLs it and starts a new one in the slot.
    /// </summary>
    public async Task KillRoundsAsync(Random random, int kills, int minGapMs, int maxGapMs, Action<CrashKill> onKill)
    {
        for (var round = 1; round <= kills; round++)
        {
            var slot = random.Next(_slots.Length);
            var gap = TimeSpan.FromMilliseconds(random.Next(minGapMs, maxGapMs + 1));
            var victim = _slots[slot]!;
            await victim.WaitDeliveringAsync(StartTimeout);
            await Task.Delay(gap);
            var progress = victim.Progress;
            await victim.KillAsync();
            var kill = new CrashKill(round, slot, victim.Id, gap, progress);
            Kills.Add(kill);
            onKill(kill);
            Collect(victim);
            victim.Dispose();
            var next = CrashWorkerProcess.Start(_arguments);
            _slots[slot] = next;
            await next.WaitStartedAsync(StartTimeout);
        }
    }

    /// <summary>SIGTERM to every worker; returns each one's exit code and last progress line.</summary>
    public async Task<IReadOnlyList<(int ExitCode, string Progress)>> StopAsync(TimeSpan timeout)
    {
        var stops = new List<Task<int>>();
        foreach (var worker in _slots)
        {
            stops.Add(worker!.TerminateAsync(timeout));
        }

        await Task.WhenAll(stops);
        var results = new List<(int, string)>();
        for (var i = 0; i < _slots.Length; i++)
        {
            results.Add((stops[i].Result, _slots[i]!.Progress));
            Collect(_slots[i]!);
        }

        return results;
    }

    /// <summary>One more worker with <c>--until-empty</c>, to its end; returns its exit code and last progress line.</summary>
    public async Task<(int ExitCode, string Progress)> RunUntilEmptyAsync(TimeSpan timeout)
    {
        using var worker = CrashWorkerProcess.Start([.. _arguments, "--until-empty"]);
        var exit = await worker.WaitForExitAsync(timeout);
        Collect(worker);
        return (exit, worker.Progress);
    }

    public void Dispose()
    {
        foreach (var worker in _slots)
        {
            worker?.Dispose();
        }
    }

    private void Collect(CrashWorkerProcess worker)
    {
        foreach (var line in worker.Errors)
        {
            _errors.Add($"[{worker.Id}] {line}");
        }
    }
}
