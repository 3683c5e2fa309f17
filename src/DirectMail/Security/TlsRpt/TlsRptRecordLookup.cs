using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;

namespace DirectMail.Security.TlsRpt;

/// <summary>What a look-up of a domain's <c>_smtp._tls</c> record found.</summary>
/// <param name="Record">The record, or null.</param>
/// <param name="IsTransient">True when the DNS did not answer (SERVFAIL, a timeout): ask again later, the domain may have a record.</param>
/// <param name="Reason">Why there is no record, or null.</param>
internal readonly record struct TlsRptLookupResult(TlsRptRecord? Record, bool IsTransient, string? Reason);

/// <summary>
/// Looks up <c>_smtp._tls.&lt;domain&gt;</c> TXT (RFC 8460 section 3) through the mailer's resolver
/// (<see cref="MxResolver.ResolveTextAsync"/>: its name servers, CNAMEs followed, each record's strings joined).
/// Called once per reported domain a day, so it keeps no cache of its own.
/// </summary>
internal sealed class TlsRptRecordLookup
{
    private readonly MxResolver _resolver;

    public TlsRptRecordLookup(MxResolver resolver)
    {
        _resolver = resolver;
    }

    public async Task<TlsRptLookupResult> LookupAsync(string policyDomain, CancellationToken cancellationToken)
    {
        var answer = await _resolver.ResolveTextAsync("_smtp._tls." + policyDomain.TrimEnd('.'), cancellationToken).ConfigureAwait(false);
        if (answer.IsTransient)
        {
            return new TlsRptLookupResult(null, IsTransient: true, answer.Reason);
        }

        return TlsRptRecord.TrySelect(answer.Records, out var record, out var error)
            ? new TlsRptLookupResult(record, IsTransient: false, null)
            : new TlsRptLookupResult(null, IsTransient: false, answer.Records.Length == 0 ? answer.Reason : error);
    }
}
