using System;
using System.CommandLine;
using System.Globalization;
using System.Net;
using DirectMail.Dns;

namespace DirectMail.Cli;

/// <summary>Options shared by several commands.</summary>
internal static class Options
{
    /// <summary><c>--dns IP[:PORT]</c>: the name server to ask instead of the system's.</summary>
    public static Option<IPEndPoint?> Dns() => new("--dns")
    {
        Description = "The name server to ask, IP or IP:PORT ([IPv6]:PORT); default: the system's resolvers.",
        HelpName = "IP[:PORT]",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
            if (MxResolverOptions.TryParseNameServer(text, out var endPoint))
            {
                return endPoint;
            }

            result.AddError($"--dns '{text}' is not an IP address or IP:PORT (a name server is given by address, for example 127.0.0.53 or 192.0.2.53:5353).");
            return null;
        },
    };

    /// <summary><c>--ca-file FILE</c>: CA certificates (PEM) trusted besides the system's for MX certificates and MTA-STS policy hosts.</summary>
    public static Option<System.IO.FileInfo> CaFile() => new("--ca-file")
    {
        Description = "Trust the CA certificates of this PEM file besides the system's, for MX certificates under MTA-STS and for the HTTPS of MTA-STS policy hosts (labs and tests).",
        HelpName = "FILE",
    };

    /// <summary><c>--no-mta-sts</c>: do not look up MTA-STS policies.</summary>
    public static Option<bool> NoMtaSts() => new("--no-mta-sts") { Description = "Do not honour MTA-STS (RFC 8461) policies: opportunistic TLS only." };

    /// <summary>
    /// Adds a validator that reports <paramref name="error"/> when the option's number is outside what
    /// <paramref name="allowed"/> accepts. A value that is not a number is left to the parser, which reports it as a usage
    /// error (reading the value here would throw instead).
    /// </summary>
    public static void AddRange(Option<int> option, Func<int, bool> allowed, string error) =>
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0
                && int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                && !allowed(value))
            {
                result.AddError(error);
            }
        });

    /// <summary><c>--verbose</c>: the library's debug log on stderr, and stack traces with errors.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print DirectMail's debug log on stderr, and the stack trace of an error.",
        Recursive = true,
    };

    /// <summary>Whether <c>--verbose</c> was given; read by the error handler, which runs outside the commands.</summary>
    public static bool IsVerbose(ParseResult? parse)
    {
        try
        {
            return parse?.GetValue(Verbose) ?? false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
