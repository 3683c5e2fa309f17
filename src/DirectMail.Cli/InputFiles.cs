using System;
using System.IO;
using System.Text;

namespace DirectMail.Cli;

/// <summary>Files named on the command line: read them, or fail with one line and exit code 65.</summary>
internal static class InputFiles
{
    /// <summary>True for <c>-</c>, which names the standard input (--eml, --text-file, --html-file).</summary>
    public static bool IsStandardInput(FileInfo? file) => file is not null && file.ToString() == "-";

    /// <summary>Everything on the standard input, read to its end.</summary>
    public static byte[] ReadStandardInput()
    {
        using var input = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        input.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Throws a <see cref="CliException"/> (65) when <paramref name="file"/> cannot be opened for reading; the standard input always can.</summary>
    public static void RequireReadable(string option, FileInfo file)
    {
        if (IsStandardInput(file))
        {
            return;
        }

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
        if (IsStandardInput(file))
        {
            // UTF-8, as a file; a byte order mark is not text.
            return new UTF8Encoding(false).GetString(ReadStandardInput()).TrimStart('\uFEFF');
        }

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
