using System.Collections.Generic;
using DirectMail.Security.MtaSts;

namespace DirectMail.Security;

/// <summary>
/// The transport-security decision for one recipient domain (RFC 7672 section 2.2, RFC 8461 sections 4 and 5): for each
/// of its MX hosts, what the session must achieve. DANE, where it applies to a host, takes precedence over MTA-STS; MTA-STS
/// in <c>enforce</c> mode over opportunistic TLS. Made once per domain delivery by <see cref="TransportSecurityResolver"/>.
/// </summary>
internal sealed class TransportSecurityPolicy
{
    /// <summary>No policy: opportunistic TLS for every host.</summary>
    public static readonly TransportSecurityPolicy None = new(null, null, TlsRequirement.Opportunistic, TlsRequirement.Opportunistic, null);

    private readonly TlsRequirement _matching;
    private readonly TlsRequirement _notMatching;
    private readonly Dictionary<string, TlsRequirement>? _hosts;

    internal TransportSecurityPolicy(string? domain, MtaStsPolicy? mtaSts, TlsRequirement matching, TlsRequirement notMatching, Dictionary<string, TlsRequirement>? hosts)
    {
        Domain = domain;
        MtaSts = mtaSts;
        _matching = matching;
        _notMatching = notMatching;
        _hosts = hosts;
    }

    /// <summary>The domain whose policy this is; null for <see cref="None"/>.</summary>
    public string? Domain { get; }

    /// <summary>The MTA-STS policy in force (enforce or testing), or null.</summary>
    public MtaStsPolicy? MtaSts { get; }

    /// <summary>True when some host's requirement is more than opportunistic TLS (a policy applies).</summary>
    public bool AppliesPolicy => !ReferenceEquals(this, None);

    /// <summary>What a session with <paramref name="mxHost"/> must achieve.</summary>
    /// <param name="mxHost">An MX host of the domain, as its <see cref="Dns.MxTarget.Host"/>.</param>
    public TlsRequirement For(string mxHost)
    {
        if (_hosts is not null && _hosts.TryGetValue(mxHost, out var dane))
        {
            return dane;
        }

        return MtaSts is null || ReferenceEquals(_matching, _notMatching) ? _matching : MtaSts.Matches(mxHost) ? _matching : _notMatching;
    }
}
