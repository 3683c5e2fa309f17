using System.IO;

namespace DirectMail.Tests.Cli;

/// <summary>Checks shared by the doctor and DKIM command tests.</summary>
internal static class CliAssert
{
    /// <summary>Stderr is one line starting with <paramref name="start"/>, with no stack trace.</summary>
    public static void OneLineError(CliResult result, string start)
    {
        var error = result.StdErr.TrimEnd('\r', '\n');
        Assert.False(error.Contains('\n', System.StringComparison.Ordinal), "Not one line:\n" + result);
        Assert.StartsWith(start, error);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
    }

    /// <summary>A new empty folder under the temporary directory.</summary>
    public static string TempDirectory() => Directory.CreateTempSubdirectory("directmail-cli-").FullName;
}
