using System;
using System.CommandLine;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dkim.Ed25519;
using DirectMail.Doctor;
using Microsoft.Extensions.Logging;

namespace DirectMail.Cli;

/// <summary><c>directmail doctor</c>: what a sending domain's DNS lacks for receivers to accept its mail, through <see cref="SenderDoctor"/>.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var domain = new Argument<string?>("domain") { Description = "The sending domain: the domain of the From address.", Arity = ArgumentArity.ZeroOrOne };
        var ip = new Option<string>("--ip") { Description = "The public IP address mail leaves from: SPF is evaluated for it, and its reverse DNS (PTR, forward confirmation) is checked. Without it, SPF is checked for syntax and limits only.", HelpName = "A.B.C.D" };
        var helo = new Option<string>("--helo") { Description = "The name sent in EHLO (send --helo, DirectMail:HeloName): checked against the IP's PTR name.", HelpName = "NAME" };
        var selector = new Option<string>("--dkim-selector") { Description = "The DKIM selector (send --dkim-selector): the key record SELECTOR._domainkey.DOMAIN must exist and be usable.", HelpName = "S" };
        var key = new Option<FileInfo>("--dkim-key") { Description = "The DKIM private key file (PEM, RSA or Ed25519) signed with (send --dkim-key): the published record must be its public half. Needs --dkim-selector.", HelpName = "FILE" };
        var ed25519Selector = new Option<string>("--ed25519-selector") { Description = "A second DKIM selector, of the Ed25519 key (RFC 8463) that signs beside the RSA one of --dkim-selector: checked and reported on its own.", HelpName = "S" };
        var ed25519Key = new Option<FileInfo>("--ed25519-key") { Description = "The Ed25519 private key file (PKCS#8 PEM, as 'directmail dkim keygen --algorithm ed25519' writes) of --ed25519-selector: the published k=ed25519 record must be its public half. Needs --ed25519-selector.", HelpName = "FILE" };
        var mailFromDomain = new Option<string>("--mail-from-domain") { Description = "The envelope sender's (MAIL FROM) domain when it is not DOMAIN: its MX and SPF are checked.", HelpName = "DOMAIN" };
        var dkimDomain = new Option<string>("--dkim-domain") { Description = "The DKIM signing domain (d=) when it is not DOMAIN.", HelpName = "DOMAIN" };
        var port25 = new Option<string>("--port25") { Description = "Also check that outbound port 25 is open: connect to the first MX host of this domain (for example gmail.com); nothing is sent. Without it, no connection is made.", HelpName = "DOMAIN" };
        var dns = Options.Dns();
        var json = new Option<bool>("--json") { Description = "Print the checklist as JSON: {schemaVersion, domain, isReady, checks: [{id, title, status, found, fix, details}]}." };

        // The flags of earlier versions, still read (the README and 'dkim keygen' named them), not shown in help.
        var oldDomain = new Option<string>("--domain") { Hidden = true };
        var oldSelector = new Option<string>("--selector") { Hidden = true };
        var oldKey = new Option<FileInfo>("--key") { Hidden = true };

        var command = new Command("doctor", "Check what a sending domain's DNS lacks for receivers to accept its mail: MX (for bounces), SPF for the sending IP, the DKIM key, DMARC and alignment, reverse DNS and the HELO name, and optionally outbound port 25. One line per check (per DKIM selector) with what was found and how to fix it; exit code 0 when ready to send, 1 when a check failed. --verbose adds the SPF evaluation trace.")
        {
            domain, ip, helo, selector, key, ed25519Selector, ed25519Key, mailFromDomain, dkimDomain, port25, dns, json, oldDomain, oldSelector, oldKey,
        };
        command.Validators.Add(result =>
        {
            foreach (var (current, old) in new (Symbol, Option)[] { (domain, oldDomain), (selector, oldSelector), (key, oldKey) })
            {
                var given = current is Option option ? result.GetResult(option) is not null : result.GetResult((Argument)current) is { Tokens.Count: > 0 };
                if (given && result.GetResult(old) is not null)
                {
                    result.AddError($"{old.Name} is the old name of {(current is Option o ? o.Name : "the DOMAIN argument")}: give one.");
                }
            }

            if (result.GetValue(domain) is null && result.GetValue(oldDomain) is null)
            {
                result.AddError("doctor needs the sending domain: directmail doctor DOMAIN.");
            }

            if ((result.GetValue(key) ?? result.GetValue(oldKey)) is not null && (result.GetValue(selector) ?? result.GetValue(oldSelector)) is null)
            {
                result.AddError("--dkim-key needs --dkim-selector: the key is checked against the record at SELECTOR._domainkey.DOMAIN.");
            }

            if (result.GetValue(ed25519Key) is not null && result.GetValue(ed25519Selector) is null)
            {
                result.AddError("--ed25519-key needs --ed25519-selector: the key is checked against the record at SELECTOR._domainkey.DOMAIN.");
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var request = new DoctorRequest
            {
                Domain = parse.GetValue(domain) ?? parse.GetRequiredValue(oldDomain),
                MailFromDomain = parse.GetValue(mailFromDomain),
                DkimDomain = parse.GetValue(dkimDomain),
                HeloName = parse.GetValue(helo),
                DkimSelector = parse.GetValue(selector) ?? parse.GetValue(oldSelector),
                Port25ProbeDomain = parse.GetValue(port25),
                NameServers = parse.GetValue(dns) is { } server ? [server] : [],
                Ed25519PublicKey = DkimEd25519.PublicKey,
            };
            if (parse.GetValue(ip) is { } address)
            {
                request.SendingAddress = IPAddress.TryParse(address, out var parsed) && !address.Contains('/', StringComparison.Ordinal)
                    ? parsed
                    : throw CliException.Input($"--ip '{address}' is not an IP address (the sending host's public address, for example 192.0.2.10 or 2001:db8::10).");
            }

            if ((parse.GetValue(key) ?? parse.GetValue(oldKey)) is { } file)
            {
                request.DkimPrivateKeyPem = InputFiles.ReadText(parse.GetValue(key) is null ? "--key" : "--dkim-key", file);
            }

            if (parse.GetValue(ed25519Selector) is { } second)
            {
                var pem = parse.GetValue(ed25519Key) is { } secondFile ? InputFiles.ReadText("--ed25519-key", secondFile) : null;
                request.AdditionalDkimKeys = [new DoctorDkimKey(second, pem)];
            }

            return await RunAsync(request, parse.GetValue(json), parse.GetValue(Options.Verbose), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(DoctorRequest request, bool json, bool verbose, CancellationToken cancellationToken)
    {
        try
        {
            request.Validate();
        }
        catch (ArgumentException e)
        {
            throw CliException.Input(OptionNames(e), e);
        }

        using var log = new ConsoleLog(null, verbose ? Console.Error : null);
        using var loggerFactory = log.CreateFactory();
        var report = await new SenderDoctor(loggerFactory.CreateLogger<SenderDoctor>()).CheckAsync(request, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            Console.Out.WriteLine(Display.Json(Describe.Json(report)));
        }
        else
        {
            Console.Out.Write(Display.Lines(Describe.Text(report, details: verbose))); // DNS text is a hostile server's text too
        }

        return report.IsReady ? ExitCodes.Success : ExitCodes.NotReady;
    }

    /// <summary>A <see cref="DoctorRequest.Validate"/> message with the property it names as the option that set it.</summary>
    private static string OptionNames(ArgumentException e)
    {
        var message = CliException.Reason(e);
        var option = e.ParamName switch
        {
            nameof(DoctorRequest.Domain) => "DOMAIN",
            nameof(DoctorRequest.MailFromDomain) => "--mail-from-domain",
            nameof(DoctorRequest.DkimDomain) => "--dkim-domain",
            nameof(DoctorRequest.DkimSelector) => "--dkim-selector",
            nameof(DoctorRequest.AdditionalDkimKeys) => "--ed25519-selector",
            nameof(DoctorRequest.Port25ProbeDomain) => "--port25",
            _ => null,
        };
        return option is not null && e.ParamName is { } name && message.StartsWith(name + " ", StringComparison.Ordinal)
            ? option + message[name.Length..]
            : message;
    }
}
