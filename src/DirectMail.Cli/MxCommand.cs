using System;
using System.CommandLine;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;

namespace DirectMail.Cli;

/// <summary><c>directmail mx DOMAIN</c>: where mail for a domain goes, as DirectMail sees it.</summary>
internal static class MxCommand
{
    public static Command Create()
    {
        var domain = new Argument<string>("domain") { Description = "The domain (the part of an address after @), or an address literal such as [192.0.2.1]." };
        var dns = Options.Dns();
        var json = new Option<bool>("--json") { Description = "Print the resolution as JSON." };
        var command = new Command("mx", "Show where mail for a domain goes: its MX targets in the order DirectMail tries them, with preferences, addresses and their scope; or why there are none (NXDOMAIN, null MX, DNS failure), in words.")
        {
            domain,
            dns,
            json,
        };

        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetRequiredValue(domain), parse.GetValue(dns), parse.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string domain, IPEndPoint? dns, bool json, CancellationToken cancellationToken)
    {
        var options = new MxResolverOptions { UseCache = false };
        if (dns is not null)
        {
            options.NameServers = [dns];
        }

        var resolver = new MxResolver(options);
        var resolution = await resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false);
        if (resolution.Status == MxResolutionStatus.InvalidDomain && !json)
        {
            throw CliException.Input(resolution.Message);
        }

        if (json)
        {
            Describe.PrintJson(resolution, Console.Out);
        }
        else
        {
            Describe.PrintText(resolution, Console.Out);
        }

        return resolution.Status switch
        {
            MxResolutionStatus.Success => ExitCodes.Success,
            MxResolutionStatus.InvalidDomain => ExitCodes.InvalidInput,
            MxResolutionStatus.DnsFailure => ExitCodes.TryAgainLater,
            _ => ExitCodes.Failed,
        };
    }
}
