using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Tests.Infrastructure;

/// <summary>What one run of a program did: its exit code and everything it wrote.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}

/// <summary>
/// The suite's one way to run a program to completion (a verifier, a key tool, the directmail CLI): arguments as a
/// list (no shell quoting), optional standard input (then closed; empty otherwise), output captured, the whole run
/// bounded by a timeout after which the program and its children are killed and a <see cref="TimeoutException"/> says
/// what hung. Nothing blocks a thread while it waits. Long-running servers are <see cref="ChildProcess"/>.
/// </summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/> and waits, at most <paramref name="timeout"/> (default <see cref="TestTimeouts.Await"/>), for it to end.</summary>
    public static async Task<ProcessResult> RunAsync(
        string file,
        IEnumerable<string> arguments,
        byte[]? stdin = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory ?? string.Empty,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        var limit = timeout ?? TestTimeouts.Await;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            if (stdin is { Length: > 0 })
            {
                try
                {
                    await process.StandardInput.BaseStream.WriteAsync(stdin, deadline.Token);
                }
                catch (System.IO.IOException)
                {
                    // The program ended without reading all of it: its exit code and output say why.
                }
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            using var reaped = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(reaped.Token);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish within {limit.TotalSeconds} s.\n{await stdout}\n{await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
