using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Security.MtaSts;

namespace DirectMail.Security;

/// <summary>
/// Decides a domain's transport security before any connection (the session never looks a policy up):
/// <list type="bullet">
/// <item>DANE (RFC 7672 section 2.2), per MX host, when a <see cref="IDaneTlsaSource"/> is configured: usable TLSA records,
/// TLS required and the certificate must match; TLSA present but none usable, TLS required without a certificate check;
/// lookup failed or bogus, the host is not tried (never plaintext); not secure or no TLSA, DANE does not apply.</item>
/// <item>MTA-STS (RFC 8461), for hosts DANE does not cover: <c>enforce</c>, only hosts matching the policy's <c>mx</c>
/// patterns, TLS required, certificate PKIX-validated against the MX name; <c>testing</c>, as without a policy, the same
/// checks observed and reported; <c>none</c> or no policy, opportunistic TLS.</item>
/// </list>
/// Thread-safe; one per mailer.
/// </summary>
internal sealed class TransportSecurityResolver
{
    private readonly IMtaStsPolicySource? _mtaSts;
    private readonly IDaneTlsaSource? _dane;
    private readonly PkixCertificateCheck _enforced;
    private readonly PkixCertificateCheck _observed;

    /// <param name="mtaSts">The MTA-STS policies; null when MTA-STS is off.</param>
    /// <param name="dane">The DANE verdicts; null when DANE is off (or not configured).</param>
    /// <param name="anchors">The trust anchors of PKIX validation besides the platform's.</param>
    public TransportSecurityResolver(IMtaStsPolicySource? mtaSts, IDaneTlsaSource? dane, TrustAnchors anchors)
    {
        _mtaSts = mtaSts;
        _dane = dane;
        _enforced = new PkixCertificateCheck(anchors, TlsPostureKind.MtaSts);
        _observed = new PkixCertificateCheck(anchors, TlsPostureKind.PkixValidated);
    }

    /// <summary>True when neither MTA-STS nor DANE is on: every decision is <see cref="TransportSecurityPolicy.None"/>.</summary>
    public bool IsOff => _mtaSts is null && _dane is null;

    /// <summary>The MTA-STS source, for <c>directmail mx --tls</c>; null when MTA-STS is off.</summary>
    internal IMtaStsPolicySource? MtaSts => _mtaSts;

    /// <summary>The DANE source, for <c>directmail mx --tls</c>; null when DANE is off.</summary>
    internal IDaneTlsaSource? Dane => _dane;

    /// <summary>The decision for <paramref name="domain"/>, whose MX hosts are <paramref name="resolution"/>'s targets.</summary>
    public ValueTask<TransportSecurityDecision> DecideAsync(string domain, MxResolution resolution, CancellationToken cancellationToken)
    {
        if (resolution.IsAddressLiteral || IsOff)
        {
            // An address literal has no name to authenticate and no policy to look up.
            return new(new TransportSecurityDecision(TransportSecurityPolicy.None));
        }

        if (_dane is null)
        {
            var pending = _mtaSts!.GetPolicyAsync(domain, cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                // The cached path: no await, no allocation.
                var lookup = pending.Result;
                return new(new TransportSecurityDecision(FromMtaSts(domain, lookup.Policy), lookup.Failure, lookup.Detail));
            }

            return MtaStsOnlyAsync(domain, pending);
        }

        return WithDaneAsync(domain, resolution, cancellationToken);
    }

    private async ValueTask<TransportSecurityDecision> MtaStsOnlyAsync(string domain, ValueTask<MtaStsLookup> pending)
    {
        var lookup = await pending.ConfigureAwait(false);
        return new TransportSecurityDecision(FromMtaSts(domain, lookup.Policy), lookup.Failure, lookup.Detail);
    }

    private async ValueTask<TransportSecurityDecision> WithDaneAsync(string domain, MxResolution resolution, CancellationToken cancellationToken)
    {
        var lookup = _mtaSts is null ? MtaStsLookup.NoPolicy : await _mtaSts.GetPolicyAsync(domain, cancellationToken).ConfigureAwait(false);
        var sts = FromMtaSts(domain, lookup.Policy);
        Dictionary<string, TlsRequirement>? hosts = null;
        foreach (var target in resolution.Targets)
        {
            var dane = await _dane!.LookupAsync(domain, target, cancellationToken).ConfigureAwait(false);
            TlsRequirement? requirement = dane.Status switch
            {
                DaneTlsaStatus.Usable when dane.Check is { } check => TlsRequirement.Authenticated(check, TlsPolicyType.Tlsa, domain).Quoting(dane.PolicyStrings),
                DaneTlsaStatus.Usable or DaneTlsaStatus.Unusable => TlsRequirement.Encrypted(TlsPolicyType.Tlsa, domain).Quoting(dane.PolicyStrings),
                DaneTlsaStatus.Failed => TlsRequirement.Unusable(dane.Failure ?? TlsFailureType.DnssecInvalid, dane.Detail ?? $"The DANE TLSA lookup of {target.Host} failed; it is not tried without it.", TlsPolicyType.Tlsa, domain),
                _ => null,
            };
            if (requirement is not null)
            {
                hosts ??= new Dictionary<string, TlsRequirement>(System.StringComparer.OrdinalIgnoreCase);
                hosts[target.Host] = requirement;
            }
        }

        var policy = hosts is null ? sts
            : sts.MtaSts is not { } mtaSts ? new TransportSecurityPolicy(domain, null, TlsRequirement.Opportunistic, TlsRequirement.Opportunistic, hosts)
            : new TransportSecurityPolicy(domain, mtaSts, Matching(domain, mtaSts), NotMatching(domain, mtaSts), hosts);
        return new TransportSecurityDecision(policy, lookup.Failure, lookup.Detail);
    }

    /// <summary>The MTA-STS part of a decision: shared by every delivery to the domain while its policy is cached.</summary>
    private TransportSecurityPolicy FromMtaSts(string domain, MtaStsPolicy? policy)
    {
        if (policy is null || policy.Mode == MtaStsMode.None)
        {
            return TransportSecurityPolicy.None;
        }

        // Built once per fetched policy (a benign race may build it twice).
        return policy.Decision ??= new TransportSecurityPolicy(domain, policy, Matching(domain, policy), NotMatching(domain, policy), null);
    }

    private TlsRequirement Matching(string domain, MtaStsPolicy policy) => (policy.Mode == MtaStsMode.Enforce
        ? TlsRequirement.Authenticated(_enforced, TlsPolicyType.Sts, domain)
        : TlsRequirement.Observed(_observed, TlsPolicyType.Sts, domain)).Quoting(policy.ReportLines, policy.ReportMx);

    private TlsRequirement NotMatching(string domain, MtaStsPolicy? policy)
    {
        if (policy is null)
        {
            return TlsRequirement.Opportunistic;
        }

        var detail = $"The MX host is not in the MTA-STS policy of {domain} (mx: {string.Join(", ", policy.Mx)}).";
        return (policy.Mode == MtaStsMode.Enforce
            ? TlsRequirement.Unusable(TlsFailureType.StsPolicyInvalid, detail, TlsPolicyType.Sts, domain)
            : TlsRequirement.Observed(_observed, TlsPolicyType.Sts, domain, TlsFailureType.StsPolicyInvalid, detail)).Quoting(policy.ReportLines, policy.ReportMx);
    }
}
