using System;
using System.CommandLine;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Security;

namespace DirectMail.Cli;

/// <summary><c>directmail mx DOMAIN</c>: where mail for a domain goes, as DirectMail sees it.</summary>
internal static class MxCommand
{
    public static Command Create()
    {
        var domain = new Argument<string>("domain") { Description = "The domain (the part of an address after @), or an address literal such as [192.0.2.1]." };
        var dns = Options.Dns();
        var json = new Option<bool>("--json") { Description = "Print the resolution as JSON." };
        var tls = new Option<bool>("--tls") { Description = "Show the domain's transport-security policy (the MTA-STS record and policy) and what DirectMail will require of each MX host." };
        var caFile = Options.CaFile();
        var noMtaSts = Options.NoMtaSts();
        var allowPrivate = new Option<bool>("--allow-private-targets") { Description = "With --tls: allow an MTA-STS policy host on a loopback or private address (labs and tests)." };
        var command = new Command("mx", "Show where mail for a domain goes: its MX targets in the order DirectMail tries them, with preferences, addresses and their scope; or why there are none (NXDOMAIN, null MX, DNS failure), in words.")
        {
            domain,
            dns,
            json,
            tls,
            caFile,
            noMtaSts,
            allowPrivate,
        };

        command.SetAction((parse, cancellationToken) =>
        {
            var security = parse.GetValue(tls) ? new TlsRequest(parse.GetValue(caFile), !parse.GetValue(noMtaSts), parse.GetValue(allowPrivate)) : null;
            return RunAsync(parse.GetRequiredValue(domain), parse.GetValue(dns), parse.GetValue(json), security, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(string domain, IPEndPoint? dns, bool json, TlsRequest? tls, CancellationToken cancellationToken)
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

        MxTlsJson? security = null;
        if (tls is not null && resolution.IsSuccess)
        {
            if (tls.CaFile is not null)
            {
                InputFiles.RequireReadable("--ca-file", tls.CaFile);
            }

            TrustAnchors anchors;
            try
            {
                anchors = TrustAnchors.Create(tls.CaFile?.FullName, null);
            }
            catch (ArgumentException e)
            {
                throw CliException.Input(e.Message, e);
            }

            security = await MxTls.InspectAsync(domain, resolution, resolver, anchors, tls.AllowPrivate, tls.UseMtaSts, cancellationToken).ConfigureAwait(false);
        }

        if (json)
        {
            Describe.PrintJson(resolution, Console.Out, security);
        }
        else
        {
            Describe.PrintText(resolution, Console.Out);
            if (security is not null)
            {
                MxTls.PrintText(security, Console.Out);
            }
        }

        return resolution.Status switch
        {
            MxResolutionStatus.Success => ExitCodes.Success,
            MxResolutionStatus.InvalidDomain => ExitCodes.InvalidInput,
            MxResolutionStatus.DnsFailure => ExitCodes.TryAgainLater,
            _ => ExitCodes.Failed,
        };
    }

    /// <summary>What --tls asks for: the trust anchors, MTA-STS on or off, private policy hosts allowed.</summary>
    private sealed record TlsRequest(System.IO.FileInfo? CaFile, bool UseMtaSts, bool AllowPrivate);
}
