using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>
/// One probe worker process (<c>DirectMail.QueueCrashProbe worker</c>): started, watched through its output
/// (<c>started</c>, <c>progress …</c>, <c>stopped</c>), killed with SIGKILL or stopped with SIGTERM.
/// </summary>
internal sealed class CrashWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _delivering = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _errors = new();
    private volatile string _progress = "progress (none)";

    private CrashWorkerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            switch (e.Data)
            {
                case "started":
                    _started.TrySetResult();
                    break;
                case { } line when line.StartsWith("progress ", StringComparison.Ordinal):
                    _progress = line;
                    if (line.Split(' ').Any(field => field.Contains('=', StringComparison.Ordinal) && !field.EndsWith("=0", StringComparison.Ordinal)))
                    {
                        _delivering.TrySetResult();
                    }

                    break;
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _errors.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string ProbePath { get; } = typeof(CrashWorkerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DirectMailQueueCrashProbe").Value!;

    public int Id => _process.Id;

    /// <summary>The last progress line: the outcomes this process recorded, by its queue's events.</summary>
    public string Progress => _progress;

    /// <summary>What the worker logged on standard error (warnings and errors).</summary>
    public IReadOnlyList<string> Errors => _errors.ToList();

    public static CrashWorkerProcess Start(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ProbePath);
        start.ArgumentList.Add("worker");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new CrashWorkerProcess(Process.Start(start)!);
    }

    /// <summary>Completes once the worker runs (its store, queue and mailer are open).</summary>
    public async Task WaitStartedAsync(TimeSpan timeout)
    {
        var first = await Task.WhenAny(_started.Task, _process.WaitForExitAsync(), Task.Delay(timeout));
        if (first != _started.Task)
        {
            throw new InvalidOperationException($"The probe worker {Id} did not start ({(_process.HasExited ? "exited with " + _process.ExitCode : "timed out")}): {string.Join(" | ", _errors)}");
        }
    }

    /// <summary>
    /// Completes once the worker recorded its first outcome (it is past its start, delivering), or after
    /// <paramref name="timeout"/> (there may be nothing left to deliver); false then.
    /// </summary>
    public async Task<bool> WaitDeliveringAsync(TimeSpan timeout)
        => await Task.WhenAny(_delivering.Task, _process.WaitForExitAsync(), Task.Delay(timeout)) == _delivering.Task;

    /// <summary>SIGKILL: nothing in the probe runs any more (no finally, no flush, no dispose).</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.WaitForExit(); // the output readers reach the end
    }

    /// <summary>SIGTERM, the graceful stop; returns the exit code (0 when the worker returned and printed "stopped").</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        return await WaitForExitAsync(timeout);
    }

    /// <summary>Waits for the process to end by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"The probe worker {Id} did not exit within {timeout}; killed. Last: {Progress}; errors: {string.Join(" | ", _errors)}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
