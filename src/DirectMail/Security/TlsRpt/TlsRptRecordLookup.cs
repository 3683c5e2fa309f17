using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DnsClient;
using DnsClient.Protocol;

namespace DirectMail.Security.TlsRpt;

/// <summary>What a look-up of a domain's <c>_smtp._tls</c> record found.</summary>
/// <param name="Record">The record, or null.</param>
/// <param name="IsTransient">True when the DNS did not answer (SERVFAIL, a timeout): ask again later, the domain may have a record.</param>
/// <param name="Reason">Why there is no record, or null.</param>
internal readonly record struct TlsRptLookupResult(TlsRptRecord? Record, bool IsTransient, string? Reason);

/// <summary>
/// Looks up <c>_smtp._tls.&lt;domain&gt;</c> TXT (RFC 8460 section 3) through the mailer's name servers. Called once
/// per reported domain a day, so it keeps no cache of its own.
/// </summary>
internal sealed class TlsRptRecordLookup
{
    private readonly IDnsTransport _transport;

    public TlsRptRecordLookup(IDnsTransport transport)
    {
        _transport = transport;
    }

    /// <summary>A look-up on the name servers of <paramref name="options"/> (the mailer's resolver settings).</summary>
    public TlsRptRecordLookup(MxResolverOptions options)
        : this(new LookupClientTransport(options))
    {
    }

    public async Task<TlsRptLookupResult> LookupAsync(string policyDomain, CancellationToken cancellationToken)
    {
        var name = "_smtp._tls." + policyDomain.TrimEnd('.') + ".";
        IDnsQueryResponse response;
        try
        {
            response = await _transport.QueryAsync(name, QueryType.TXT, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return new TlsRptLookupResult(null, IsTransient: true, $"no answer from the name server ({e.Message})");
        }

        var code = response.Header.ResponseCode;
        if (code == DnsHeaderResponseCode.NotExistentDomain)
        {
            return new TlsRptLookupResult(null, IsTransient: false, "NXDOMAIN");
        }

        if (code != DnsHeaderResponseCode.NoError)
        {
            return new TlsRptLookupResult(null, IsTransient: true, $"{code} from {response.NameServer}");
        }

        // A recursive resolver answers with the whole CNAME chain; the TXT records at its end are the domain's.
        var texts = new List<string>();
        var joined = new StringBuilder();
        foreach (var answer in response.Answers)
        {
            if (answer is TxtRecord txt)
            {
                // One TXT record of several strings is one text: RFC 8460 section 3 (as RFC 7208 section 3.3) joins them.
                joined.Clear();
                foreach (var part in txt.Text)
                {
                    joined.Append(part);
                }

                texts.Add(joined.ToString());
            }
        }

        return TlsRptRecord.TrySelect(texts, out var record, out var error)
            ? new TlsRptLookupResult(record, IsTransient: false, null)
            : new TlsRptLookupResult(null, IsTransient: false, error);
    }
}
