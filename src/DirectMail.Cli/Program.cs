using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Linq;
using System.Threading.Tasks;

namespace DirectMail.Cli;

/// <summary>
/// directmail: look up where mail goes (mx), deliver a message directly (send), check a sending domain's DNS (doctor),
/// make a DKIM key (dkim keygen), try it all offline (demo).
/// Exit codes: see <see cref="ExitCodes"/>.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // A plain command named "directmail" rather than a RootCommand, which would take its name from the assembly
        // (DirectMail.Cli: "directmail.dll" would clash with the library's DirectMail.dll).
        var root = new Command("directmail", "directmail: deliver email straight to the recipients' MX servers, no relay. Start with `directmail demo`.")
        {
            MxCommand.Create(),
            SendCommand.Create(),
            DoctorCommand.Create(),
            DkimCommand.Create(),
            QueueCommand.Create(),
            SuppressionCommand.Create(),
            BounceCommand.Create(),
            DemoCommand.Create(),
        };
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(Options.Verbose);

        ParseResult? parse = null;
        try
        {
            // Plain "directmail" is a request for the help, not a mistake: the help and exit code 0.
            parse = root.Parse(args.Length == 0 ? ["--help"] : args);
            if (parse.Action is ParseErrorAction)
            {
                // Usage errors: one line naming what is wrong, and where the help is.
                var command = CommandPath(parse.CommandResult);
                Console.Error.WriteLine(Display.Line($"{command}: {string.Join(" ", parse.Errors.Select(e => EndSentence(OneLine(e.Message))))} See '{command} --help'."));
                return ExitCodes.Usage;
            }

            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            Console.Error.WriteLine(Display.Line("directmail: " + e.Message));
            if (Options.IsVerbose(parse) && e.InnerException is not null)
            {
                Console.Error.WriteLine(Display.Lines(e.InnerException.ToString()));
            }

            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("directmail: canceled.");
            return ExitCodes.Canceled;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(Display.Line($"directmail: {OneLine(e.Message)} ({e.GetType().Name}; --verbose shows where)"));
            if (Options.IsVerbose(parse))
            {
                Console.Error.WriteLine(Display.Lines(e.ToString()));
            }

            return ExitCodes.Internal;
        }
    }

    /// <summary>The command as typed: "directmail", "directmail send", "directmail dkim keygen".</summary>
    private static string CommandPath(CommandResult? result)
    {
        var names = new List<string>();
        for (; result is not null; result = result.Parent as CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }

        return string.Join(' ', names);
    }

    private static string EndSentence(string text) => text.EndsWith('.') ? text : text + ".";

    /// <summary>The text on one line: line breaks and tabs (System.CommandLine lists allowed values on lines of their own) become spaces.</summary>
    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
