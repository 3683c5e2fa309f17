using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

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

    /// <summary>Runs directmail with these environment variables set besides the usual ones (a trust store through SSL_CERT_FILE, for one).</summary>
    public static Task<CliResult> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var merged = new Dictionary<string, string>(Environment);
        foreach (var (name, value) in environment)
        {
            merged[name] = value;
        }

        return RunInAsync(null, TimeSpan.FromSeconds(30), args, [], merged);
    }

    private static async Task<CliResult> RunInAsync(string? workingDirectory, TimeSpan timeout, string[] args, byte[] input, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [DllPath, .. args], input, timeout, workingDirectory, environment ?? Environment);
        return new CliResult(result.ExitCode, result.StdOut, result.StdErr);
    }

    private static readonly Dictionary<string, string> Environment = new() { ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };

    private static string FindDll()
    {
        var path = typeof(CliRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DirectMailCli").Value!;
        path = Path.GetFullPath(path);
        return File.Exists(path) ? path : throw new FileNotFoundException($"The directmail tool is not built at {path}: build tests/DirectMail.Tests (it builds src/DirectMail.Cli first).", path);
    }
}
