using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Doctor;
using DirectMail.Smtp;

namespace DirectMail.Cli;

/// <summary>How resolutions, delivery reports and doctor reports are printed: as text for people, as JSON for programs.</summary>
internal static class Describe
{
    public static string Status(MxResolutionStatus status) => status switch
    {
        MxResolutionStatus.Success => "success",
        MxResolutionStatus.DomainNotFound => "domain-not-found",
        MxResolutionStatus.NullMx => "null-mx",
        MxResolutionStatus.NoUsableTargets => "no-usable-targets",
        MxResolutionStatus.InvalidDomain => "invalid-domain",
        _ => "dns-failure",
    };

    public static string Status(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Delivered => "delivered",
        DeliveryStatus.Deferred => "deferred",
        _ => "failed",
    };

    public static string Scope(AddressScope scope) => scope switch
    {
        AddressScope.Public => "public",
        AddressScope.Unspecified => "unspecified",
        AddressScope.Loopback => "loopback",
        AddressScope.Private => "private",
        AddressScope.LinkLocal => "link-local",
        AddressScope.SharedCgnat => "shared-cgnat",
        AddressScope.Multicast => "multicast",
        AddressScope.Documentation => "documentation",
        _ => "reserved",
    };

    /// <summary>What the outcome means for mail to the domain, in words.</summary>
    public static string Explain(MxResolution resolution) => resolution.Status switch
    {
        MxResolutionStatus.Success when resolution.IsAddressLiteral =>
            "An address literal: mail goes to that address itself, no DNS is used.",
        MxResolutionStatus.Success when resolution.IsImplicitMx =>
            "The domain has no MX records, so mail goes to the domain's own address records (implicit MX, RFC 5321 section 5.1).",
        MxResolutionStatus.Success =>
            "Mail is delivered to these targets in this order: lowest preference first, equal preferences in random order (RFC 5321 section 5.1).",
        MxResolutionStatus.DomainNotFound =>
            "The domain does not exist (NXDOMAIN): mail to it fails for good (550 5.1.2). Check the spelling.",
        MxResolutionStatus.NullMx =>
            "The domain publishes a null MX (\"MX 0 .\", RFC 7505): it says it accepts no mail at all. Mail to it fails for good (556 5.1.10); its address records are never used.",
        MxResolutionStatus.NoUsableTargets =>
            "No MX host of the domain has a usable address (or the domain has neither MX nor address records): mail to it fails (550 5.4.4).",
        MxResolutionStatus.InvalidDomain =>
            "This is not a domain name a mail address can have (553 5.1.3).",
        _ =>
            "A DNS lookup failed in a way that may pass (SERVFAIL, REFUSED, timeout or network error): mail to the domain is deferred and tried again later (451 4.4.3). Check the name server (--dns) and try again.",
    };

    public static void PrintText(MxResolution resolution, TextWriter output)
    {
        if (!resolution.IsSuccess)
        {
            output.WriteLine(Display.Line(resolution.Message));
            output.WriteLine(Explain(resolution));
        }
        else
        {
            var count = resolution.Targets.Length;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{resolution.Domain}: {count} target{(count == 1 ? string.Empty : "s")}{(resolution.IsImplicitMx ? " (implicit MX)" : string.Empty)}"));
            output.WriteLine(Explain(resolution));
            output.WriteLine();
            var width = resolution.Targets.SelectMany(t => t.Addresses).Max(a => a.Address.ToString().Length);
            output.WriteLine("  pref  host / addresses");
            foreach (var target in resolution.Targets)
            {
                output.WriteLine(Display.Line(string.Create(CultureInfo.InvariantCulture, $"  {target.Preference,4}  {target.Host}")));
                foreach (var address in target.Addresses)
                {
                    output.WriteLine($"        {address.Address.ToString().PadRight(width)}  {Scope(address.Scope)}");
                }
            }

            if (resolution.Targets.Any(t => t.Addresses.Any(a => !a.IsPublic)))
            {
                output.WriteLine();
                output.WriteLine("Addresses that are not public are refused by DirectMail unless private targets are allowed (send --allow-private-targets, AllowPrivateTargets = true).");
            }
        }

        foreach (var warning in resolution.Warnings)
        {
            output.WriteLine(Display.Line("warning: " + warning));
        }
    }

    public static void PrintJson(MxResolution resolution, TextWriter output, MxTlsJson? tls = null)
    {
        var json = new MxJson
        {
            Tls = tls,
            Domain = resolution.Domain,
            Status = Status(resolution.Status),
            Transient = resolution.IsTransient,
            Message = resolution.Message,
            Explanation = Explain(resolution),
            ImplicitMx = resolution.IsImplicitMx,
            AddressLiteral = resolution.IsAddressLiteral,
            Targets = resolution.Targets.Select(t => new MxTargetJson
            {
                Host = t.Host,
                Preference = t.Preference,
                Addresses = t.Addresses.Select(a => new MxAddressJson { Address = a.Address.ToString(), Scope = Scope(a.Scope) }).ToArray(),
            }).ToArray(),
            Warnings = resolution.Warnings.ToArray(),
            FailureReply = resolution.FailureReply is { } reply
                ? new ReplyJson { Code = reply.Code, EnhancedStatusCode = reply.EnhancedStatusCode?.ToString(), Text = ReplyText(reply) }
                : null,
        };
        output.WriteLine(Display.Json(JsonSerializer.Serialize(json, CliJsonContext.Readable.MxJson)));
    }

    public static void PrintText(DeliveryReport report, TextWriter output)
    {
        foreach (var r in report.Recipients)
        {
            var line = new StringBuilder().Append(r.Address).Append(": ").Append(Status(r.Status));
            if (r.Reply is { } reply)
            {
                line.Append(", ").Append(reply.ToString().Replace("\n", " / ", StringComparison.Ordinal));
            }

            if (r.MxHost is not null)
            {
                line.Append(r.Route == DirectMail.Routing.DeliveryRoute.Direct ? ", via " : ", via relay ").Append(r.MxHost);
                if (r.ServerAddress is not null)
                {
                    line.Append(" [").Append(r.ServerAddress).Append(']');
                }
            }

            // The reply, detail, hint and notes carry server text: each printed line is escaped (Display).
            output.WriteLine(Display.Line(line.ToString()));
            if (r.Detail is not null && (r.Reply is null || !r.Reply.Text.Contains(r.Detail, StringComparison.Ordinal)))
            {
                output.WriteLine(Display.Line("  " + r.Detail));
            }

            if (r.Hint is not null)
            {
                output.WriteLine(Display.Line("  hint: " + r.Hint));
            }

            if (r.TlsFailure is { } tlsFailure)
            {
                output.WriteLine(Display.Line("  tls: " + DirectMail.Security.TlsNames.Of(tlsFailure) + (r.Tls is { } tls ? " (delivered with " + DirectMail.Security.TlsNames.Of(tls.Kind) + " TLS)" : string.Empty)));
            }
        }

        foreach (var diagnostic in report.Diagnostics)
        {
            output.WriteLine(Display.Line("note: " + diagnostic));
        }

        output.WriteLine(Display.Line(report.ToString()));
        if (report.DeferredCount > 0)
        {
            output.WriteLine("Deferred recipients may be delivered later: send to them again in a few minutes (a mail queue does this for you).");
        }
    }

    public static void PrintJson(DeliveryReport report, TextWriter output)
    {
        var json = new SendJson
        {
            Delivered = report.DeliveredCount,
            Deferred = report.DeferredCount,
            Failed = report.FailedCount,
            DurationMs = (long)report.Duration.TotalMilliseconds,
            Recipients = report.Recipients.Select(r => new RecipientJson
            {
                Address = r.Address,
                Status = Status(r.Status),
                ReplyCode = r.Reply?.Code,
                EnhancedStatusCode = r.Reply?.EnhancedStatusCode?.ToString(),
                ReplyText = r.Reply is null ? null : ReplyText(r.Reply),
                ReplySynthetic = r.Reply?.IsSynthetic ?? false,
                MxHost = r.MxHost,
                Route = r.Route switch
                {
                    DirectMail.Routing.DeliveryRoute.Relay => "relay",
                    DirectMail.Routing.DeliveryRoute.FallbackRelay => "fallback-relay",
                    DirectMail.Routing.DeliveryRoute.PortBlockedRelay => "port-blocked-relay",
                    _ => "direct",
                },
                ServerQueueId = r.ServerQueueId,
                Ip = r.ServerAddress?.ToString(),
                Attempts = r.Attempts,
                DurationMs = (long)r.Duration.TotalMilliseconds,
                PolicyRejection = r.IsPolicyRejection,
                Hint = r.Hint,
                Detail = r.Detail,
                Tls = r.Tls is { } tls ? new TlsPostureJson { Kind = DirectMail.Security.TlsNames.Of(tls.Kind), Protocol = tls.Protocol?.ToString(), CipherSuite = tls.CipherSuite?.ToString() } : null,
                TlsFailure = r.TlsFailure is { } failure ? DirectMail.Security.TlsNames.Of(failure) : null,
            }).ToArray(),
            Diagnostics = report.Diagnostics.ToArray(),
        };
        output.WriteLine(Display.Json(JsonSerializer.Serialize(json, CliJsonContext.Readable.SendJson)));
    }

    /// <summary>The exit code of a report: 0 all delivered, 69 some failed, 75 some deferred and none failed.</summary>
    public static int ExitCode(DeliveryReport report) =>
        report.FailedCount > 0 ? ExitCodes.Failed : report.DeferredCount > 0 ? ExitCodes.TryAgainLater : ExitCodes.Success;

    /// <summary>The reply's text without the enhanced status code that starts each line (it has a field of its own).</summary>
    private static string ReplyText(SmtpReply reply)
    {
        var lines = new List<string>(reply.Lines.Count);
        foreach (var line in reply.Lines)
        {
            if (reply.EnhancedStatusCode is { } code)
            {
                var prefix = code.ToString();
                if (line.StartsWith(prefix, StringComparison.Ordinal) && (line.Length == prefix.Length || line[prefix.Length] == ' '))
                {
                    lines.Add(line[prefix.Length..].TrimStart());
                    continue;
                }
            }

            lines.Add(line);
        }

        return string.Join('\n', lines);
    }

    /// <summary>
    /// The doctor's checklist as text: one line per check (<c>[pass]</c>, <c>[warn]</c>, <c>[FAIL]</c>, <c>[skip]</c>, the
    /// title and what was found), a <c>fix:</c> line under each check that has one, and a last line with the verdict.
    /// Lines end in <c>\n</c>.
    /// </summary>
    /// <param name="report">The report.</param>
    /// <param name="details">Also print each check's <see cref="DoctorCheck.Details"/>, indented.</param>
    public static string Text(DoctorReport report, bool details)
    {
        var text = new StringBuilder();
        text.Append("directmail doctor: ").Append(report.Domain).Append('\n');
        var checks = report.Checks;
        var width = checks.Count == 0 ? 0 : checks.Max(c => c.Title.Length);
        foreach (var check in checks)
        {
            text.Append('[').Append(Label(check.Status)).Append("] ").Append(check.Title.PadRight(width)).Append("  ").Append(check.Found).Append('\n');
            var indent = new string(' ', 9 + width);
            if (check.Fix is not null)
            {
                text.Append(indent).Append("fix: ").Append(check.Fix).Append('\n');
            }

            if (details)
            {
                foreach (var line in check.Details)
                {
                    text.Append(indent).Append("  ").Append(line).Append('\n');
                }
            }
        }

        var failed = checks.Count(c => c.Status == DoctorStatus.Fail);
        var warned = checks.Count(c => c.Status == DoctorStatus.Warn);
        text.Append(report.IsReady
            ? $"Ready to send{(warned > 0 ? $", with {warned} warning(s)" : string.Empty)}.\n"
            : $"Not ready: {failed} check(s) failed{(warned > 0 ? $", {warned} warning(s)" : string.Empty)}.\n");
        return text.ToString();
    }

    /// <summary>
    /// The doctor's report as JSON: <c>{"schemaVersion", "domain", "isReady", "checks": [{"id", "title", "status", "found", "fix", "details"}]}</c>,
    /// status in lower case (<c>pass</c>, <c>warn</c>, <c>fail</c>, <c>skipped</c>).
    /// </summary>
    public static string Json(DoctorReport report) =>
        JsonSerializer.Serialize(new DoctorJson { Domain = report.Domain, IsReady = report.IsReady, Checks = report.Checks }, CliJsonContext.Readable.DoctorJson);

    private static string Label(DoctorStatus status) => status switch
    {
        DoctorStatus.Pass => "pass",
        DoctorStatus.Warn => "warn",
        DoctorStatus.Fail => "FAIL",
        _ => "skip",
    };
}
