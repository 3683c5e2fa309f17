using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Security;
using DirectMail.Security.Dane;
using DirectMail.Security.MtaSts;

namespace DirectMail.Cli;

/// <summary>
/// <c>directmail mx DOMAIN --tls</c>: the domain's transport-security policy as the mailer reads it (the <c>_mta-sts</c>
/// TXT record, the HTTPS policy, through the same parser, fetcher and decision) and what DirectMail will require of
/// each MX host, with each host's DNSSEC status and validated TLSA records (DANE, RFC 7672).
/// </summary>
internal static class MxTls
{
    public static async Task<MxTlsJson> InspectAsync(string domain, MxResolution resolution, MxResolver resolver, TrustAnchors anchors, bool allowPrivate, bool useMtaSts, TlsaResolver? dane, CancellationToken cancellationToken)
    {
        var mtaSts = new MtaStsJson { Enabled = false };
        var lookup = MtaStsLookup.NoPolicy;
        if (useMtaSts && resolution.IsSuccess && !resolution.IsAddressLiteral)
        {
            (mtaSts, lookup) = await MtaStsAsync(resolution.Domain, resolver, anchors, allowPrivate, cancellationToken).ConfigureAwait(false);
        }

        // The same decision the mailer makes, DANE included when it is on.
        var daneOn = dane is { IsEnabled: true };
        var daneJson = dane is null ? new DaneJson { Enabled = false, Reason = "--no-dane was given." } : new DaneJson { Enabled = daneOn, Reason = dane.DisabledReason };
        var decision = await new TransportSecurityResolver(useMtaSts ? new Fixed(lookup) : null, daneOn ? new DaneTlsaSource(dane!) : null, anchors).DecideAsync(resolution.Domain, resolution, cancellationToken).ConfigureAwait(false);
        var secure = false;
        foreach (var target in resolution.Targets)
        {
            secure |= target.IsDnssecAuthenticated;
        }

        if (daneOn && !secure && !resolution.Targets.IsEmpty)
        {
            // No host came validated: an unsigned domain, or name servers that do not validate (a stub resolver on
            // loopback such as systemd-resolved's 127.0.0.53 passes the AD check by address alone). Said when it shows.
            daneJson.NotAssessable = await dane!.NotValidatingReasonAsync(resolution.Domain, cancellationToken).ConfigureAwait(false);
        }

        var hosts = new List<MxTlsHostJson>();
        foreach (var target in resolution.Targets)
        {
            var requirement = decision.Policy.For(target.Host);
            var tlsa = daneOn ? await dane!.LookupAsync(target, cancellationToken).ConfigureAwait(false) : null;
            hosts.Add(new MxTlsHostJson
            {
                Dnssec = target.IsDnssecAuthenticated ? "secure" : "insecure",
                Dane = tlsa?.Status switch
                {
                    TlsaLookupStatus.Usable => "usable",
                    TlsaLookupStatus.NoneUsable => "none-usable",
                    TlsaLookupStatus.Failed => "failed",
                    TlsaLookupStatus.NotApplicable => "not-applicable",
                    _ => null,
                },
                TlsaBaseDomain = tlsa?.BaseDomain,
                Tlsa = tlsa is { Records.Length: > 0 } ? Records(tlsa) : null,
                DaneDetail = tlsa?.Reason,
                Host = target.Host,
                Requirement = requirement.Kind switch
                {
                    TlsRequirementKind.EncryptionRequired => "tls-required",
                    TlsRequirementKind.AuthenticationRequired => "authenticated",
                    TlsRequirementKind.Unusable => "not-used",
                    _ => "opportunistic",
                },
                PolicyType = TlsNames.Of(requirement.PolicyType),
                Posture = requirement.EnforcesCertificate ? TlsNames.Of(requirement.CertificateCheck!.PostureOnSuccess) : null,
                Detail = requirement.Detail,
            });
        }

        return new MxTlsJson { MtaSts = mtaSts, Dane = daneJson, Hosts = hosts };
    }

    private static List<TlsaRecordJson> Records(TlsaLookup lookup)
    {
        var records = new List<TlsaRecordJson>(lookup.Records.Length);
        foreach (var record in lookup.Records)
        {
            records.Add(new TlsaRecordJson { Record = record.ToString(), Usable = record.IsUsable, Unusable = record.UnusableReason });
        }

        return records;
    }

    public static void PrintText(MxTlsJson tls, TextWriter output)
    {
        output.WriteLine();
        var sts = tls.MtaSts;
        if (!sts.Enabled)
        {
            output.WriteLine("MTA-STS: not looked up.");
        }
        else
        {
            output.WriteLine(Display.Line("MTA-STS record: " + (sts.Record ?? "none")));
            if (sts.Mode is not null)
            {
                output.WriteLine(Display.Line($"MTA-STS policy (id {sts.Id}): mode {sts.Mode}, max_age {sts.MaxAgeSeconds} s, mx {string.Join(", ", sts.Mx ?? [])}"));
            }

            if (sts.Failure is not null)
            {
                output.WriteLine(Display.Line($"MTA-STS policy not usable ({sts.Failure}): {sts.Detail}"));
            }
        }

        output.WriteLine(Display.Line(
            tls.Dane.NotAssessable is { } notAssessable ? "DANE: cannot be assessed: " + notAssessable
            : tls.Dane.Enabled ? "DANE: on (the name servers' DNSSEC validation is believed)."
            : "DANE: off: " + tls.Dane.Reason));
        foreach (var host in tls.Hosts)
        {
            if (host.Dane is null)
            {
                continue;
            }

            output.WriteLine(Display.Line($"  {host.Host}: DNSSEC {host.Dnssec}; TLSA {host.Dane}: {host.DaneDetail}"));
            foreach (var record in host.Tlsa ?? [])
            {
                output.WriteLine(Display.Line($"    TLSA {record.Record}" + (record.Usable ? string.Empty : $" (unusable: {record.Unusable})")));
            }
        }

        output.WriteLine("DirectMail will require:");
        foreach (var host in tls.Hosts)
        {
            var what = host.Requirement switch
            {
                "authenticated" => $"TLS, certificate authenticated ({host.Posture})",
                "tls-required" => "TLS, certificate not checked",
                "not-used" => "not used",
                _ => "opportunistic TLS (plaintext if not offered)",
            };
            output.WriteLine(Display.Line($"  {host.Host}: {what}" + (host.Detail is null ? string.Empty : " — " + host.Detail)));
        }
    }

    private static async Task<(MtaStsJson Json, MtaStsLookup Lookup)> MtaStsAsync(string domain, MxResolver resolver, TrustAnchors anchors, bool allowPrivate, CancellationToken cancellationToken)
    {
        var txt = await resolver.ResolveTextAsync("_mta-sts." + domain, cancellationToken).ConfigureAwait(false);
        string? record = null;
        foreach (var r in txt.Records)
        {
            if (r.StartsWith("v=STSv1", StringComparison.Ordinal))
            {
                record = record is null ? r : record + " | " + r;
            }
        }

        if (txt.IsTransient)
        {
            return (new MtaStsJson { Enabled = true, Failure = "dns", Detail = txt.Reason }, MtaStsLookup.NoPolicy);
        }

        var id = MtaStsRecord.FindId(txt.Records, out var recordError);
        if (id is null)
        {
            return (new MtaStsJson { Enabled = true, Record = record, Detail = recordError }, MtaStsLookup.NoPolicy);
        }

        using var fetcher = new MtaStsPolicyFetcher(new RelayHostResolver(resolver, () => resolver).ResolveAsync, allowPrivate, anchors, Delivery.DirectMailOptions.DefaultMtaStsFetchTimeout);
        var fetched = await fetcher.FetchAsync(domain, cancellationToken).ConfigureAwait(false);
        if (fetched.Policy is not { } policy)
        {
            var failure = fetched.Failure ?? TlsFailureType.StsPolicyFetchError;
            return (new MtaStsJson { Enabled = true, Record = record, Id = id, Failure = TlsNames.Of(failure), Detail = fetched.Detail }, new MtaStsLookup(null, failure, fetched.Detail));
        }

        var json = new MtaStsJson
        {
            Enabled = true,
            Record = record,
            Id = id,
            Mode = policy.Mode.ToString().ToLowerInvariant(),
            Mx = [.. policy.Mx],
            MaxAgeSeconds = (long)policy.MaxAge.TotalSeconds,
        };
        return (json, new MtaStsLookup(policy));
    }

    private sealed class Fixed(MtaStsLookup lookup) : IMtaStsPolicySource
    {
        public ValueTask<MtaStsLookup> GetPolicyAsync(string domain, CancellationToken cancellationToken) => new(lookup);
    }
}
