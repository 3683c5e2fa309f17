using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Smtp;
using DnsClient;
using Microsoft.Extensions.Logging;

namespace DirectMail.Cli;

/// <summary>
/// <c>send --quit-after STEP</c>: one conversation with the server mail would go to (--server, the first --relay host,
/// or the recipients' domain's MX), stopped after STEP with QUIT (after <c>connect</c>, closed without a word): nothing
/// after that step is sent, and never a message. Each step's reply is printed; the exit code is the last reply's.
/// </summary>
internal static class Probe
{
    /// <summary>The steps in conversation order, as --quit-after names them.</summary>
    public static readonly string[] Steps = ["connect", "greeting", "ehlo", "tls", "auth", "mail", "rcpt"];

    public static async Task<int> RunAsync(string quitAfter, DirectMailOptions options, ServerTarget? server, IPEndPoint? dns, SmtpEnvelope envelope, bool json, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var last = Array.IndexOf(Steps, quitAfter);
        var (sessionOptions, candidates) = await TargetAsync(options, server, dns, envelope, cancellationToken).ConfigureAwait(false);
        var logger = loggerFactory.CreateLogger("DirectMail.Cli.Probe");
        var steps = new List<ProbeStepJson>();
        var exit = ExitCodes.TryAgainLater;
        string? host = null;
        IPEndPoint? address = null;
        foreach (var (name, endPoint) in candidates)
        {
            await using var probe = new SmtpProbe(sessionOptions, logger);
            try
            {
                await probe.ConnectAsync(endPoint, name, cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpFailureException e)
            {
                steps.Add(new ProbeStepJson { Step = "connect", Detail = $"{name} [{endPoint}]: {e.Failure.Message}" });
                continue;
            }

            (host, address) = (name, endPoint);
            steps.Add(new ProbeStepJson { Step = "connect", Detail = $"{name} [{endPoint}] from {probe.LocalEndPoint}{(probe.IsEncrypted ? $", {probe.TlsProtocol} (implicit TLS)" : string.Empty)}" });
            exit = ExitCodes.Success;
            if (last > 0)
            {
                try
                {
                    exit = await ConverseAsync(probe, sessionOptions, envelope, last, steps, cancellationToken).ConfigureAwait(false);
                }
                catch (SmtpFailureException e)
                {
                    steps.Add(new ProbeStepJson { Step = Steps[Math.Min(StepOf(e.Failure.Phase), last)], Detail = e.Failure.Message });
                    exit = ExitCodes.TryAgainLater;
                }

                await probe.QuitAsync(cancellationToken).ConfigureAwait(false);
            }

            break;
        }

        if (address is null && steps.Count == 0)
        {
            steps.Add(new ProbeStepJson { Step = "connect", Detail = "no address to connect to." });
        }

        Print(new ProbeJson { QuitAfter = quitAfter, Server = host, Address = address?.ToString(), Steps = steps }, json);
        return exit;
    }

    /// <summary>The steps after connect up to <paramref name="last"/>; stops at the first refusal. Returns the exit code of the last reply.</summary>
    private static async Task<int> ConverseAsync(SmtpProbe probe, SmtpSessionOptions options, SmtpEnvelope envelope, int last, List<ProbeStepJson> steps, CancellationToken cancellationToken)
    {
        var reply = await probe.GreetingAsync(cancellationToken).ConfigureAwait(false);
        if (!Add(steps, "greeting", reply) || last == 1)
        {
            return Exit(reply);
        }

        reply = await probe.HelloAsync(cancellationToken).ConfigureAwait(false);
        if (!Add(steps, "ehlo", reply) || last == 2)
        {
            return Exit(reply);
        }

        if (options.TlsMode is SmtpTlsMode.Opportunistic or SmtpTlsMode.Required)
        {
            if (!probe.Capabilities.Supports(SmtpExtensions.StartTls))
            {
                var required = options.TlsMode == SmtpTlsMode.Required;
                steps.Add(new ProbeStepJson { Step = "tls", Detail = required ? "TLS is required and the server does not offer STARTTLS." : "the server does not offer STARTTLS; going on without TLS (--tls opportunistic)." });
                if (required || last == 3)
                {
                    return required ? ExitCodes.Failed : ExitCodes.Success;
                }
            }
            else
            {
                reply = await probe.StartTlsAsync(cancellationToken).ConfigureAwait(false);
                var encrypted = reply.Code == 220;
                Add(steps, "tls", reply, encrypted ? $"{probe.TlsProtocol}" : null);
                if (encrypted)
                {
                    reply = await probe.HelloAsync(cancellationToken).ConfigureAwait(false);
                    if (!Add(steps, "ehlo", reply))
                    {
                        return Exit(reply);
                    }
                }
                else if (options.TlsMode == SmtpTlsMode.Required)
                {
                    return Exit(reply, refused: true);
                }

                if (last == 3)
                {
                    return encrypted ? ExitCodes.Success : Exit(reply, refused: true);
                }
            }
        }

        if (last == 3)
        {
            // Implicit TLS (a relay on 465): the handshake came with the connection.
            return ExitCodes.Success;
        }

        if (options.Credentials is not null)
        {
            var failure = await probe.AuthenticateAsync(cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                steps.Add(Json("auth", failure.Reply, failure.Message));
                return failure.Reply is { } refusal ? Exit(refusal, refused: true) : ExitCodes.TryAgainLater;
            }

            steps.Add(new ProbeStepJson { Step = "auth", Detail = $"authenticated as {options.Credentials.UserName} with {probe.AuthMechanism}" });
        }

        if (last == 4)
        {
            return ExitCodes.Success;
        }

        reply = await probe.MailAsync(envelope, cancellationToken).ConfigureAwait(false);
        if (!Add(steps, "mail", reply) || last == 5)
        {
            return Exit(reply);
        }

        var exit = ExitCodes.Success;
        for (var i = 0; i < envelope.Recipients.Count; i++)
        {
            reply = await probe.RecipientAsync(envelope, i, cancellationToken).ConfigureAwait(false);
            var step = Json("rcpt", reply, null);
            steps.Add(new ProbeStepJson { Step = step.Step, Recipient = envelope.Recipients[i], ReplyCode = step.ReplyCode, EnhancedStatusCode = step.EnhancedStatusCode, ReplyText = step.ReplyText });
            exit = Worst(exit, Exit(reply));
            if (probe.IsClosed)
            {
                break;
            }
        }

        return exit;
    }

    /// <summary>69 (a permanent refusal) over 75 (a transient one) over 0.</summary>
    private static int Worst(int a, int b) => a == ExitCodes.Failed || b == ExitCodes.Failed ? ExitCodes.Failed : Math.Max(a, b);

    /// <summary>2xx and 3xx: 0; 4xx: 75 (EX_TEMPFAIL); 5xx: 69 (EX_UNAVAILABLE). A positive reply where a 220 was wanted (STARTTLS) is a refusal.</summary>
    private static int Exit(SmtpReply reply, bool refused = false) =>
        reply.Code >= 500 ? ExitCodes.Failed : reply.Code >= 400 || refused ? ExitCodes.TryAgainLater : ExitCodes.Success;

    private static bool Add(List<ProbeStepJson> steps, string step, SmtpReply reply, string? detail = null)
    {
        steps.Add(Json(step, reply, detail));
        return reply.Code is >= 200 and < 400;
    }

    private static ProbeStepJson Json(string step, SmtpReply? reply, string? detail) => new()
    {
        Step = step,
        ReplyCode = reply?.Code,
        EnhancedStatusCode = reply?.EnhancedStatusCode?.ToString(),
        ReplyText = reply is null ? null : string.Join('\n', reply.Lines),
        Detail = detail,
    };

    private static int StepOf(SmtpPhase phase) => phase switch
    {
        SmtpPhase.Connect => 0,
        SmtpPhase.Greeting => 1,
        SmtpPhase.Hello => 2,
        SmtpPhase.StartTls => 3,
        SmtpPhase.Authenticate => 4,
        SmtpPhase.MailFrom => 5,
        _ => 6,
    };

    /// <summary>The session settings and the addresses to try, in order: --relay's first host, --server, or the one recipient domain's MX.</summary>
    private static async Task<(SmtpSessionOptions Options, List<(string Host, IPEndPoint EndPoint)> Candidates)> TargetAsync(DirectMailOptions options, ServerTarget? server, IPEndPoint? dns, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        var candidates = new List<(string, IPEndPoint)>();
        if (options.Relays.TryGetValue(DeliveryOptions.RelayName, out var relayOptions))
        {
            var relay = new RelayTarget(DeliveryOptions.RelayName, relayOptions, options.ToSessionOptions(plaintext: false));
            var host = relay.Hosts[0];
            foreach (var address in await AddressesAsync(host.Host, dns, options.AddressFamilyPreference, cancellationToken).ConfigureAwait(false))
            {
                candidates.Add((host.Host, new IPEndPoint(address, host.Port)));
            }

            return (relay.SessionOptions, candidates);
        }

        var domain = envelope.GetRecipientDomain(0);
        for (var i = 1; i < envelope.Recipients.Count; i++)
        {
            if (server is null && !string.Equals(envelope.GetRecipientDomain(i), domain, StringComparison.OrdinalIgnoreCase))
            {
                throw CliException.Usage("--quit-after talks to one server: give recipients of one domain, or name the server (--server HOST).");
            }
        }

        IMxResolver resolver = server is not null ? server : new MxResolver(new MxResolverOptions
        {
            UseCache = false,
            NameServers = dns is null ? [] : [dns],
            AddressFamilyPreference = options.AddressFamilyPreference,
        });
        var resolution = await resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false);
        if (!resolution.IsSuccess)
        {
            throw new CliException(resolution.IsTransient ? ExitCodes.TryAgainLater : ExitCodes.Failed, resolution.Message);
        }

        foreach (var target in resolution.Targets)
        {
            foreach (var address in target.Addresses)
            {
                if (address.IsPublic || options.AllowPrivateTargets)
                {
                    candidates.Add((target.Host, new IPEndPoint(address.Address, options.Port)));
                }
            }
        }

        if (candidates.Count == 0)
        {
            throw new CliException(ExitCodes.Failed, $"every MX address of {domain} is loopback, private or otherwise not public: nothing to connect to without --allow-private-targets.");
        }

        return (options.ToSessionOptions(plaintext: false), candidates);
    }

    private static async Task<IPAddress[]> AddressesAsync(string host, IPEndPoint? dns, AddressFamilyPreference family, CancellationToken cancellationToken)
    {
        try
        {
            return await HostAddresses.ResolveAsync(host, dns, family, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or DnsResponseException)
        {
            throw new CliException(ExitCodes.TryAgainLater, $"the address lookup of {host} failed: {e.Message}", e);
        }
    }

    private static void Print(ProbeJson result, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(Display.Json(JsonSerializer.Serialize(result, CliJsonContext.Readable.ProbeJson)));
            return;
        }

        var output = Console.Out;
        foreach (var step in result.Steps)
        {
            var text = step.Step + (step.Recipient is null ? string.Empty : " " + step.Recipient) + ":";
            if (step.ReplyCode is { } code)
            {
                text += $" {code} {step.ReplyText?.Replace("\n", " / " + code + " ", StringComparison.Ordinal)}";
            }

            if (step.Detail is not null)
            {
                text += step.ReplyCode is null ? " " + step.Detail : " (" + step.Detail + ")";
            }

            output.WriteLine(Display.Line(text));
        }

        output.WriteLine(Display.Line($"Quit after {result.QuitAfter}: no message was sent."));
    }
}
