using System;

namespace DirectMail.Cli;

/// <summary>The exit codes of directmail, from BSD's sysexits.h as mail programs use them.</summary>
internal static class ExitCodes
{
    /// <summary>Every recipient delivered (send); the domain has targets (mx); every check needed passed (doctor); done (dkim keygen).</summary>
    public const int Success = 0;

    /// <summary>doctor: some check failed; the domain is not ready to send (the checklist says what to fix).</summary>
    public const int NotReady = 1;

    /// <summary>EX_USAGE: the command line is wrong (unknown option, missing value, options that exclude each other).</summary>
    public const int Usage = 64;

    /// <summary>EX_DATAERR: the input is wrong (an invalid address or domain, an unreadable file).</summary>
    public const int InvalidInput = 65;

    /// <summary>EX_NOINPUT: what was named is not there (a queue id not in the queue, a --queue directory that does not exist).</summary>
    public const int NotFound = 66;

    /// <summary>EX_UNAVAILABLE: some recipient failed permanently (send); the domain takes no mail (mx).</summary>
    public const int Failed = 69;

    /// <summary>EX_SOFTWARE: something went wrong inside directmail itself.</summary>
    public const int Internal = 70;

    /// <summary>EX_CANTCREAT: an output file cannot be created (it exists and --force was not given, or its folder is missing or not writable).</summary>
    public const int CannotCreate = 73;

    /// <summary>EX_TEMPFAIL: some recipient deferred and none failed (send); a transient DNS failure (mx). Try again later.</summary>
    public const int TryAgainLater = 75;

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT.</summary>
    public const int Canceled = 130;
}

/// <summary>An error to report in one line with an exit code; never a stack trace.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    public static CliException Input(string message, Exception? inner = null) => new(ExitCodes.InvalidInput, message, inner);

    public static CliException NotFound(string message) => new(ExitCodes.NotFound, message);

    /// <summary>The message of an <see cref="ArgumentException"/> without the " (Parameter 'x')" that .NET appends.</summary>
    public static string Reason(Exception e)
    {
        var message = e.Message;
        var suffix = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return suffix < 0 ? message : message[..suffix];
    }
}
