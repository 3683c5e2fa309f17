using System;
using System.IO;

namespace DirectMail.Cli;

/// <summary>Files named on the command line: read them, or fail with one line and exit code 65.</summary>
internal static class InputFiles
{
    /// <summary>Throws a <see cref="CliException"/> (65) when <paramref name="file"/> cannot be opened for reading.</summary>
    public static void RequireReadable(string option, FileInfo file)
    {
        if (Directory.Exists(file.FullName))
        {
            throw CliException.Input($"{option} '{file}': cannot read the file: it is a folder");
        }

        try
        {
            using var stream = file.OpenRead();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Input($"{option} '{file}': cannot read the file: {Unreadable(e)}", e);
        }
    }

    /// <summary>The text of <paramref name="file"/> (UTF-8), or a <see cref="CliException"/> (65).</summary>
    public static string ReadText(string option, FileInfo file)
    {
        RequireReadable(option, file);
        try
        {
            return File.ReadAllText(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Input($"{option} '{file}': cannot read the file: {Unreadable(e)}", e);
        }
    }

    /// <summary>Why a file could not be opened, in words.</summary>
    public static string Unreadable(Exception e) => e switch
    {
        FileNotFoundException => "it does not exist",
        DirectoryNotFoundException => "its folder does not exist",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };
}
