using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;

namespace DirectMail.Security.Dane;

/// <summary>
/// DANE for the transport-security decision (RFC 7672 section 2.2): each MX host's TLSA lookup (<see cref="TlsaResolver"/>,
/// cached) turned into a verdict, with a fresh <see cref="DaneCertificateCheck"/> for usable records (one per domain
/// delivery: the check remembers which usage matched). Thread-safe.
/// </summary>
internal sealed class DaneTlsaSource(TlsaResolver resolver, TimeProvider? timeProvider = null) : IDaneTlsaSource
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>The TLSA lookups behind the verdicts (for <c>directmail mx --tls</c>).</summary>
    public TlsaResolver Resolver { get; } = resolver;

    /// <inheritdoc />
    public ValueTask<DaneTlsaLookup> LookupAsync(string domain, MxTarget target, CancellationToken cancellationToken)
    {
        var pending = Resolver.LookupAsync(target, cancellationToken);
        return pending.IsCompletedSuccessfully ? new(Verdict(pending.Result)) : AwaitAsync(pending);
    }

    private async ValueTask<DaneTlsaLookup> AwaitAsync(ValueTask<TlsaLookup> pending) => Verdict(await pending.ConfigureAwait(false));

    private DaneTlsaLookup Verdict(TlsaLookup lookup) => lookup.Status switch
    {
        TlsaLookupStatus.Usable => new DaneTlsaLookup(DaneTlsaStatus.Usable, new DaneCertificateCheck(lookup, _time), null, lookup.Reason) { PolicyStrings = lookup.ReportStrings },
        TlsaLookupStatus.NoneUsable => new DaneTlsaLookup(DaneTlsaStatus.Unusable, null, null, lookup.Reason) { PolicyStrings = lookup.ReportStrings },
        TlsaLookupStatus.Failed => new DaneTlsaLookup(DaneTlsaStatus.Failed, null, TlsFailureType.DnssecInvalid, lookup.Reason),
        _ => DaneTlsaLookup.NotApplicable,
    };
}
