using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Security;
using DirectMail.Security.MtaSts;

namespace DirectMail.Cli;

/// <summary>
/// <c>directmail mx DOMAIN --tls</c>: the domain's transport-security policy as the mailer reads it (the <c>_mta-sts</c>
/// TXT record, the HTTPS policy, through the same parser, fetcher and decision) and what DirectMail will require of
/// each MX host. DANE adds its TLSA lines where marked.
/// </summary>
internal static class MxTls
{
    public static async Task<MxTlsJson> InspectAsync(string domain, MxResolution resolution, MxResolver resolver, TrustAnchors anchors, bool allowPrivate, bool useMtaSts, CancellationToken cancellationToken)
    {
        var mtaSts = new MtaStsJson { Enabled = false };
        var lookup = MtaStsLookup.NoPolicy;
        if (useMtaSts && resolution.IsSuccess && !resolution.IsAddressLiteral)
        {
            (mtaSts, lookup) = await MtaStsAsync(resolution.Domain, resolver, anchors, allowPrivate, cancellationToken).ConfigureAwait(false);
        }

        // The same decision the mailer makes; DANE: pass the DANE source here (second argument).
        var decision = await new TransportSecurityResolver(useMtaSts ? new Fixed(lookup) : null, null, anchors).DecideAsync(resolution.Domain, resolution, cancellationToken).ConfigureAwait(false);
        var hosts = new List<MxTlsHostJson>();
        foreach (var target in resolution.Targets)
        {
            var requirement = decision.Policy.For(target.Host);
            hosts.Add(new MxTlsHostJson
            {
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

        return new MxTlsJson { MtaSts = mtaSts, Hosts = hosts };
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

        // DANE: the TLSA records and DNSSEC status of each host are printed here.
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

        using var fetcher = new MtaStsPolicyFetcher(new RelayHostResolver(resolver, () => resolver).ResolveAsync, allowPrivate, anchors, TimeSpan.FromSeconds(15));
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
