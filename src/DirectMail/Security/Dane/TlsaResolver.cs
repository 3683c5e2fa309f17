using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Dns;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Security.Dane;

/// <summary>
/// Looks up the TLSA records of MX hosts (<c>_25._tcp.HOST</c>, RFC 7672 section 2.2.3) through the same name servers
/// as the MX resolution, with the DO bit, believing the AD bit only as <see cref="MxResolverOptions.ResolverValidatesDnssec"/>
/// allows; when it is not believed DANE is off, and the constructor says so once in the log. Results are kept for the
/// records' TTL (failures for <see cref="MxResolverOptions.TransientFailureCacheTime"/>). Thread-safe; one per mailer.
/// </summary>
internal sealed class TlsaResolver
{
    private static readonly TlsaLookup HostNotAuthenticated = TlsaLookup.NotApplicable(null,
        "the MX records or the MX host's address records are not DNSSEC-validated: DANE does not apply (RFC 7672 section 2.2).");

    private readonly MxResolverOptions _options;
    private readonly IDnsTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly TlsaLookup _off;
    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="options">The resolver settings of the MX resolution (name servers, timeouts, cache bounds, DNSSEC trust).</param>
    /// <param name="port">The SMTP port connected to: the TLSA name is <c>_PORT._tcp</c> (25 for MX hosts).</param>
    /// <param name="logger">Where to log (event ids 8050 to 8099); null for none.</param>
    /// <param name="timeProvider">The clock of the cache; null for <see cref="TimeProvider.System"/>.</param>
    /// <param name="transport">The DNS transport; null for one on DnsClient with the options' name servers.</param>
    public TlsaResolver(MxResolverOptions options, int port, ILogger? logger = null, TimeProvider? timeProvider = null, IDnsTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _transport = transport ?? new LookupClientTransport(_options);
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _prefix = "_" + port.ToString(CultureInfo.InvariantCulture) + "._tcp.";
        IsEnabled = _options.TrustsAuthenticatedData();
        DisabledReason = IsEnabled ? null : DisabledSentence(_options);
        _off = TlsaLookup.NotApplicable(null, DisabledReason ?? string.Empty);
        if (DisabledReason is not null)
        {
            DaneLog.Off(_logger, DisabledReason);
        }
    }

    /// <summary>True when the name servers' DNSSEC validation is believed, so that DANE can apply.</summary>
    public bool IsEnabled { get; }

    /// <summary>Why DANE is off (a sentence naming the option to change), or null when it is on.</summary>
    public string? DisabledReason { get; }

    /// <summary>
    /// The TLSA records of <paramref name="target"/> and what they mean. No query is made, and DANE does not apply,
    /// when DANE is off or the target is not DNSSEC-authenticated (<see cref="MxTarget.IsDnssecAuthenticated"/>). For a
    /// host found through CNAMEs the expanded name is asked first, then the MX host name (RFC 7672 section 2.2.3).
    /// </summary>
    public ValueTask<TlsaLookup> LookupAsync(MxTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!IsEnabled)
        {
            return new ValueTask<TlsaLookup>(_off);
        }

        if (!target.IsDnssecAuthenticated)
        {
            return new ValueTask<TlsaLookup>(HostNotAuthenticated);
        }

        if (_cache.TryGetValue(target.Host, out var entry)
            && _time.GetTimestamp() < entry.ExpiresAt
            && string.Equals(entry.CanonicalHost, target.CanonicalHost, StringComparison.OrdinalIgnoreCase))
        {
            return new ValueTask<TlsaLookup>(entry.Lookup);
        }

        return LookupSlowAsync(target, cancellationToken);
    }

    private async ValueTask<TlsaLookup> LookupSlowAsync(MxTarget target, CancellationToken cancellationToken)
    {
        (TlsaLookup Lookup, TimeSpan CacheFor) result;
        if (target.CanonicalHost is { } expanded && !string.Equals(expanded, target.Host, StringComparison.OrdinalIgnoreCase))
        {
            // RFC 7672 section 2.2.3: with secure CNAME-expanded addresses, the expanded name is the TLSA base domain
            // first; when it has no TLSA records (or insecure ones), the MX host name is asked.
            result = await QueryAsync(expanded, cancellationToken).ConfigureAwait(false);
            if (result.Lookup.Status == TlsaLookupStatus.NotApplicable)
            {
                var original = await QueryAsync(target.Host, cancellationToken).ConfigureAwait(false);
                result = (original.Lookup, Min(result.CacheFor, original.CacheFor));
            }
        }
        else
        {
            result = await QueryAsync(target.Host, cancellationToken).ConfigureAwait(false);
        }

        if (result.Lookup.Status == TlsaLookupStatus.Failed)
        {
            DaneLog.LookupFailed(_logger, target.Host, result.Lookup.Reason);
        }
        else
        {
            DaneLog.LookedUp(_logger, target.Host, result.Lookup.Status, result.Lookup.Reason);
        }

        Store(target, result.Lookup, Min(result.CacheFor, _options.MaxCacheTime));
        return result.Lookup;
    }

    /// <summary>
    /// For <c>directmail mx --tls</c>: whether the name servers, whose AD bit is believed, show that they do not validate
    /// DNSSEC: asked with the DO bit, they answer <paramref name="domain"/>'s MX records with their signatures (RRSIG) but
    /// without the AD bit. A validating resolver sets AD on a signed answer it validated and answers SERVFAIL for one that
    /// failed; an unsigned zone has no RRSIG. Then every host looks insecure and DANE cannot be assessed with these
    /// servers. Null when nothing shows it (or there is no answer); otherwise the sentence to show.
    /// </summary>
    internal async ValueTask<string?> NotValidatingReasonAsync(string domain, CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return null;
        }

        IDnsQueryResponse response;
        try
        {
            response = await _transport.QueryAsync(domain.TrimEnd('.') + ".", QueryType.MX, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (response.Header.IsAuthenticData || response.Header.ResponseCode != DnsHeaderResponseCode.NoError)
        {
            return null;
        }

        foreach (var record in response.Answers)
        {
            if (record is RRSigRecord)
            {
                var servers = _options.NameServers.Count == 0 ? "the system's name servers" : "the name servers " + string.Join(", ", _options.NameServers);
                return $"{servers} returned the signed MX records of {domain.TrimEnd('.')} without the AD bit: they do not validate DNSSEC (or the zone's chain of trust is broken), so every MX host shows as insecure and DANE cannot be assessed with them. Use a validating resolver (unbound, for instance) with --dns.";
            }
        }

        return null;
    }

    private async ValueTask<(TlsaLookup Lookup, TimeSpan CacheFor)> QueryAsync(string host, CancellationToken cancellationToken)
    {
        var owner = _prefix + host;
        IDnsQueryResponse response;
        try
        {
            response = await _transport.QueryAsync(owner + ".", QueryType.TLSA, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // DnsClient throws when no server answered. RFC 7672 section 2.1.1: a failed lookup is not a denial.
            var why = e is DnsResponseException { Code: DnsResponseCode.ConnectionTimeout } ? "no answer from the name server (timeout)" : $"no answer from the name server ({e.Message})";
            return (TlsaLookup.Failed(host, $"the TLSA lookup of {owner} failed: {why}; the host is not used, and nothing is sent to it in plaintext (RFC 7672 section 2.2)."), _options.TransientFailureCacheTime);
        }

        var code = response.Header.ResponseCode;
        if (code is not (DnsHeaderResponseCode.NoError or DnsHeaderResponseCode.NotExistentDomain))
        {
            // A validating resolver answers SERVFAIL for a bogus answer (a bad or expired signature, a tampered record)
            // and for a lookup that failed; its Extended DNS Error (RFC 8914), when it sends one, says which.
            var name = code == DnsHeaderResponseCode.ServerFailure ? "SERVFAIL" : "response code " + ((int)code).ToString(CultureInfo.InvariantCulture);
            var why = code != DnsHeaderResponseCode.ServerFailure
                ? string.Empty
                : ExtendedDnsError.From(response) switch
                {
                    { IsDnssecFailure: true } error => ", a DNSSEC-bogus answer: " + error,
                    { } error => ", a failed lookup: " + error,
                    null => " (a DNSSEC-bogus answer, or a failed lookup)",
                };
            return (TlsaLookup.Failed(host, $"the TLSA lookup of {owner} failed: {name} from {response.NameServer}{why}; the host is not used, and nothing is sent to it in plaintext (RFC 7672 section 2.2)."), _options.TransientFailureCacheTime);
        }

        var authenticated = response.Header.IsAuthenticData;
        var ttl = TimeSpan.MaxValue;
        var records = new List<TlsaAssociation>();
        foreach (var record in response.Answers)
        {
            if (record is TlsaRecord tlsa)
            {
                records.Add(new TlsaAssociation((byte)tlsa.CertificateUsage, (byte)tlsa.Selector, (byte)tlsa.MatchingType, [.. tlsa.CertificateAssociationData]));
                ttl = Min(ttl, TimeSpan.FromSeconds(record.TimeToLive));
            }
            else if (record is CNameRecord)
            {
                ttl = Min(ttl, TimeSpan.FromSeconds(record.TimeToLive));
            }
        }

        if (records.Count == 0)
        {
            var denial = authenticated ? "a validated denial" : "not validated";
            return (TlsaLookup.NotApplicable(host, $"{owner} has no TLSA records ({denial}): DANE does not apply."), Min(ttl, MxResolver.NegativeTtl(response, _options.MaxNegativeCacheTime)));
        }

        if (!authenticated)
        {
            return (TlsaLookup.NotApplicable(host, $"the TLSA records at {owner} are not DNSSEC-validated (insecure): DANE does not apply (RFC 7672 section 2.2)."), ttl);
        }

        return (TlsaLookup.FromRecords(host, owner, records), ttl);
    }

    private void Store(MxTarget target, TlsaLookup lookup, TimeSpan cacheFor)
    {
        if (!_options.UseCache || cacheFor <= TimeSpan.Zero)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (!_cache.ContainsKey(target.Host) && _cache.Count >= _options.MaxCacheEntries)
        {
            foreach (var pair in _cache)
            {
                if (pair.Value.ExpiresAt <= now)
                {
                    _cache.TryRemove(pair);
                }
            }

            if (_cache.Count >= _options.MaxCacheEntries)
            {
                DaneLog.CacheFull(_logger, _options.MaxCacheEntries, target.Host);
                return;
            }
        }

        _cache[target.Host] = new CacheEntry(lookup, target.CanonicalHost, now + (long)(cacheFor.TotalSeconds * _time.TimestampFrequency));
    }

    private static string DisabledSentence(MxResolverOptions options)
    {
        var servers = options.NameServers.Count == 0 ? "the system's name servers" : "the name servers " + string.Join(", ", options.NameServers);
        return options.ResolverValidatesDnssec == false
            ? $"{nameof(MxResolverOptions.ResolverValidatesDnssec)} is false, so the AD bit of {servers} is not believed and TLSA records are not looked up; mail goes without DANE (RFC 7672)."
            : $"{servers} are not all loopback addresses, so their AD bit is not believed (it travels unsigned) and TLSA records are not looked up; mail goes without DANE (RFC 7672). Run a validating resolver on this host, or set {nameof(MxResolverOptions.ResolverValidatesDnssec)} to true if these servers validate and the path to them is trusted.";
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed record CacheEntry(TlsaLookup Lookup, string? CanonicalHost, long ExpiresAt);
}
