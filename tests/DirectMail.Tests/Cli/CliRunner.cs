using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;

namespace DirectMail.Tests.Cli;

/// <summary>What one run of directmail did.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}

/// <summary>
/// Runs the directmail tool as a process, <c>dotnet DirectMail.Cli.dll ARGS</c>, as a user or CI would: the dll is the
/// one the test project's build made (the project references the CLI for build order only; its path is stamped into
/// this assembly by the csproj). Standard input is empty unless given; output is captured; a run that hangs is killed.
/// </summary>
public static class CliRunner
{
    public static string DllPath { get; } = FindDll();

    public static async Task<CliResult> RunAsync(params string[] args) => await RunAsync(TimeSpan.FromSeconds(30), args);

    public static Task<CliResult> RunAsync(TimeSpan timeout, params string[] args) => RunInAsync(null, timeout, args);

    /// <summary>Runs directmail with <paramref name="input"/> on its standard input (then closed).</summary>
    public static Task<CliResult> RunWithInputAsync(byte[] input, params string[] args) => RunInAsync(null, TimeSpan.FromSeconds(30), args, input);

    /// <summary>Runs directmail in <paramref name="workingDirectory"/> (null: this process's).</summary>
    public static Task<CliResult> RunInAsync(string? workingDirectory, TimeSpan timeout, params string[] args) => RunInAsync(workingDirectory, timeout, args, []);

    private static async Task<CliResult> RunInAsync(string? workingDirectory, TimeSpan timeout, string[] args, byte[] input)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? string.Empty,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        if (input.Length > 0)
        {
            await process.StandardInput.BaseStream.WriteAsync(input);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(timeout)) != exited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"directmail {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s.\n{await stdout}\n{await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindDll()
    {
        var path = typeof(CliRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DirectMailCli").Value!;
        path = Path.GetFullPath(path);
        return File.Exists(path) ? path : throw new FileNotFoundException($"The directmail tool is not built at {path}: build tests/DirectMail.Tests (it builds src/DirectMail.Cli first).", path);
    }
}
