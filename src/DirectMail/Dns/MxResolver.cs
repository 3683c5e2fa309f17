using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Smtp;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Dns;

/// <summary>
/// The default <see cref="IMxResolver"/>, on DnsClient: RFC 5321 section 5.1 with null MX (RFC 7505), a TTL-honouring
/// cache and one query in flight per domain. Thread-safe; create one and share it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>MX hosts are sorted by preference; hosts of equal preference are shuffled on every resolution, cached ones included.</item>
/// <item>Only NOERROR without MX records (NODATA) makes the domain its own implicit MX, preference 0. NXDOMAIN is permanent;
/// SERVFAIL, REFUSED and timeouts are transient and never fall back to the domain's A record.</item>
/// <item>A single MX of target <c>.</c> is a null MX: permanent, 556 5.1.10, the A record is never used.</item>
/// <item>CNAMEs are followed up to <see cref="MxResolverOptions.MaxCnameDepth"/>. An MX host that does not resolve is
/// skipped; when none resolves, the outcome is transient if any lookup failed transiently, permanent otherwise.</item>
/// <item>A truncated UDP answer is asked again over TCP.</item>
/// </list>
/// </remarks>
public sealed class MxResolver : IMxResolver
{
    // Hosts tied in preference at the MaxMxHosts cut are all looked up so the shuffle among them stays fair; this
    // bounds the work a domain with thousands of MX records can cause.
    private const int MaxHostsLookedUp = 100;

    private readonly MxResolverOptions _options;
    private readonly IDnsTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    // The AD bit is believed only from name servers that validate (MxResolverOptions.ResolverValidatesDnssec).
    private readonly bool _trustsAuthenticatedData;

    // Keys are lower-case A-label names. The comparer ignores case so that the fast path can look up an ASCII input
    // as given, without allocating its normalised form.
    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Task<CacheEntry>> _inFlight = new(StringComparer.Ordinal);

    // Host names looked up by ResolveHostAsync (relay hosts), apart from the MX resolutions.
    private readonly ConcurrentDictionary<string, HostEntry> _hostCache = new(StringComparer.Ordinal);

    /// <summary>Creates a resolver with the default <see cref="MxResolverOptions"/>: the system's name servers.</summary>
    public MxResolver()
        : this(new MxResolverOptions())
    {
    }

    /// <summary>Creates a resolver.</summary>
    /// <param name="options">The settings; copied and checked with <see cref="MxResolverOptions.Validate"/>.</param>
    /// <param name="logger">Where to log (event ids 3000 to 3099); null for none.</param>
    /// <param name="timeProvider">The clock for cache expiry; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public MxResolver(MxResolverOptions options, ILogger<MxResolver>? logger = null, TimeProvider? timeProvider = null)
        : this(Checked(options), transport: null, logger, timeProvider)
    {
    }

    internal MxResolver(MxResolverOptions options, IDnsTransport? transport, ILogger? logger, TimeProvider? timeProvider)
    {
        options.Validate();
        _options = options.Clone();
        _transport = transport ?? new LookupClientTransport(_options);
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _trustsAuthenticatedData = _options.TrustsAuthenticatedData();
    }

    /// <summary>
    /// Whether this resolver believes the AD bit of its name servers' answers, so that <see cref="MxTarget.IsDnssecAuthenticated"/>
    /// can be true and DANE can apply (<see cref="MxResolverOptions.ResolverValidatesDnssec"/>).
    /// </summary>
    internal bool TrustsAuthenticatedData => _trustsAuthenticatedData;

    /// <inheritdoc />
    public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<MxResolution>(cancellationToken);
        }

        // Fast path: an ASCII name already in the cache. Non-ASCII input must go through IDNA first: the case-insensitive
        // comparer would take "ı" (dotless i) for "i", a different domain.
        if (_options.UseCache
            && Ascii.IsValid(domain)
            && _cache.TryGetValue(domain, out var entry)
            && _time.GetTimestamp() < entry.ExpiresAt)
        {
            return new ValueTask<MxResolution>(Present(entry));
        }

        return ResolveSlowAsync(domain, cancellationToken);
    }

    private static MxResolverOptions Checked(MxResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options;
    }

    private async ValueTask<MxResolution> ResolveSlowAsync(string input, CancellationToken cancellationToken)
    {
        var domain = MxDomain.Parse(input);
        if (domain.Error is not null)
        {
            MxResolverLog.Failed(_logger, MxDomain.Printable(input), MxResolutionStatus.InvalidDomain, domain.Error);
            return MxResolution.Failure(input, MxResolutionStatus.InvalidDomain, domain.Error, ImmutableArray<string>.Empty);
        }

        if (domain.Literal is not null)
        {
            return ResolveLiteral(domain.Name!, domain.Literal);
        }

        var name = domain.Name!;
        if (_options.UseCache && _cache.TryGetValue(name, out var cached) && _time.GetTimestamp() < cached.ExpiresAt)
        {
            return Present(cached);
        }

        // Single flight: the first caller starts the lookup, later ones await the same task until it completes.
        Task<CacheEntry> lookup;
        while (true)
        {
            if (_inFlight.TryGetValue(name, out var running))
            {
                MxResolverLog.JoinedInFlight(_logger, name);
                lookup = running;
                break;
            }

            var completion = new TaskCompletionSource<CacheEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(name, completion.Task))
            {
                lookup = completion.Task;
                _ = RunLookupAsync(name, completion);
                break;
            }
        }

        var result = await lookup.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Present(result);
    }

    private async Task RunLookupAsync(string name, TaskCompletionSource<CacheEntry> completion)
    {
        CacheEntry entry;
        try
        {
            // No caller's token: others may be waiting on this lookup; the query timeout bounds it.
            entry = await LookupAsync(name).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _inFlight.TryRemove(new KeyValuePair<string, Task<CacheEntry>>(name, completion.Task));
            completion.SetException(e);
            return;
        }

        if (_options.UseCache)
        {
            Store(name, entry);
        }

        // Stored, then no longer in flight, then completed: a caller that saw this lookup complete and asks again
        // finds the cache entry, or (when it was not kept) starts a new lookup; it never rejoins this finished one.
        _inFlight.TryRemove(new KeyValuePair<string, Task<CacheEntry>>(name, completion.Task));
        completion.SetResult(entry);
    }

    private void Store(string name, CacheEntry entry)
    {
        if (entry.ExpiresAt <= _time.GetTimestamp())
        {
            return;
        }

        if (!_cache.ContainsKey(name) && _cache.Count >= _options.MaxCacheEntries)
        {
            var now = _time.GetTimestamp();
            foreach (var pair in _cache)
            {
                if (pair.Value.ExpiresAt <= now)
                {
                    _cache.TryRemove(pair);
                }
            }

            if (_cache.Count >= _options.MaxCacheEntries)
            {
                MxResolverLog.CacheFull(_logger, _options.MaxCacheEntries, name);
                return;
            }
        }

        _cache[name] = entry;
    }

    /// <summary>The resolution to hand out: the cached one when nothing varies, else a fresh shuffle of its hosts, limited.</summary>
    private MxResolution Present(CacheEntry entry)
    {
        if (entry.Fixed is not null)
        {
            return entry.Fixed;
        }

        var candidates = entry.Template.Targets;
        var order = new MxTarget[candidates.Length];
        candidates.CopyTo(order);
        ShuffleEqualPreferences(order);
        return entry.Template.WithTargets(ApplyLimits(order));
    }

    /// <summary>
    /// Fisher-Yates within each run of equal preference (the array is sorted by preference): every order of the run is
    /// equally likely, as RFC 5321 section 5.1 requires ("the sender MUST randomize them").
    /// </summary>
    private static void ShuffleEqualPreferences(MxTarget[] targets)
    {
        var start = 0;
        while (start < targets.Length)
        {
            var end = start + 1;
            while (end < targets.Length && targets[end].Preference == targets[start].Preference)
            {
                end++;
            }

            for (var i = end - 1; i > start; i--)
            {
                var j = Random.Shared.Next(start, i + 1);
                (targets[i], targets[j]) = (targets[j], targets[i]);
            }

            start = end;
        }
    }

    /// <summary>Keeps at most MaxMxHosts targets and MaxAddresses addresses over all of them, in order. May modify <paramref name="ordered"/>.</summary>
    private ImmutableArray<MxTarget> ApplyLimits(MxTarget[] ordered)
    {
        var hosts = Math.Min(ordered.Length, _options.MaxMxHosts);
        var budget = _options.MaxAddresses;
        var kept = 0;
        while (kept < hosts && budget > 0)
        {
            var target = ordered[kept];
            if (target.Addresses.Length > budget)
            {
                ordered[kept] = target.WithAddresses(ImmutableArray.Create(target.Addresses, 0, budget));
            }

            budget -= ordered[kept].Addresses.Length;
            kept++;
        }

        return kept == ordered.Length
            ? ImmutableCollectionsMarshal.AsImmutableArray(ordered)
            : ImmutableArray.Create(ordered, 0, kept);
    }

    private MxResolution ResolveLiteral(string literal, IPAddress address)
    {
        var isV6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        var family = _options.AddressFamilyPreference;
        if ((isV6 && family == AddressFamilyPreference.IPv4Only) || (!isV6 && family == AddressFamilyPreference.IPv6Only))
        {
            var message = $"The address literal {literal} is {(isV6 ? "IPv6" : "IPv4")}, and the resolver is set to {family}.";
            return MxResolution.Failure(literal, MxResolutionStatus.NoUsableTargets, message, ImmutableArray<string>.Empty);
        }

        // RFC 5321 section 5.1: an address literal is the address to deliver to; no DNS is involved.
        var target = MxTarget.Create(literal, 0, ImmutableArray.Create(new MxAddress(address)));
        return MxResolution.Success(literal, $"{literal} is an address literal: delivery goes to that address.", ImmutableArray.Create(target), isImplicitMx: false, isAddressLiteral: true, ImmutableArray<string>.Empty);
    }

    /// <summary>
    /// The addresses of a host name looked up as an MX host's are (a relay's host: no MX lookup): A and AAAA by
    /// <see cref="MxResolverOptions.AddressFamilyPreference"/>, CNAMEs followed, through this resolver's name servers
    /// (never the system's resolver, /etc/hosts included), cached for the records' TTL like MX resolutions. Scopes are
    /// classified (<see cref="MxAddress.Scope"/>), not filtered: the caller decides.
    /// </summary>
    /// <param name="host">A host name (ASCII or Unicode, an optional trailing dot); not an address.</param>
    /// <param name="cancellationToken">Stops waiting; the lookup goes on, bounded by the query timeout.</param>
    internal async ValueTask<HostAddresses> ResolveHostAsync(string host, CancellationToken cancellationToken)
    {
        var parsed = MxDomain.Parse(host);
        if (parsed.Error is not null || parsed.Name is not { } name)
        {
            return new HostAddresses([], IsTransient: false, parsed.Error ?? $"{host} is not a host name");
        }

        if (_options.UseCache && _hostCache.TryGetValue(name, out var cached) && _time.GetTimestamp() < cached.ExpiresAt)
        {
            return cached.Result;
        }

        var lookup = await LookupHostAsync(name, name, 0, mxAuthenticated: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        var result = lookup.Target is { } target ? new HostAddresses(target.Addresses, false, string.Empty) : new HostAddresses([], lookup.IsTransient, lookup.Reason);
        var cacheFor = Min(lookup.CacheFor, _options.MaxCacheTime);
        if (_options.UseCache && cacheFor > TimeSpan.Zero && (_hostCache.Count < _options.MaxCacheEntries || _hostCache.ContainsKey(name)))
        {
            _hostCache[name] = new HostEntry(result, _time.GetTimestamp() + (long)(cacheFor.TotalSeconds * _time.TimestampFrequency));
        }

        return result;
    }

    // ---- Lookups -----------------------------------------------------------------------------------------------

    private async Task<CacheEntry> LookupAsync(string domain)
    {
        var mx = await QueryAsync(domain, QueryType.MX).ConfigureAwait(false);
        switch (mx.Kind)
        {
            case LookupKind.Transient:
                return Fail(domain, MxResolutionStatus.DnsFailure, $"The MX lookup for {domain} failed: {mx.Reason}. Try again later; the domain's A record is not used in its place.", mx.CacheFor, []);
            case LookupKind.NxDomain:
                return Fail(domain, MxResolutionStatus.DomainNotFound, $"The domain {domain} does not exist (NXDOMAIN).", mx.CacheFor, []);
            case LookupKind.NoData:
                return await ImplicitMxAsync(domain, mx.CacheFor, mx.Authenticated).ConfigureAwait(false);
        }

        var warnings = new List<string>();
        var records = new List<MxRecord>(mx.Records.Count);
        foreach (var record in mx.Records)
        {
            records.Add((MxRecord)record);
        }

        // RFC 7505 section 3: a null MX is a single MX whose target is the root. (Any preference is taken: the intent is
        // unambiguous; section 3 asks for 0.)
        if (records.Count == 1 && IsRoot(records[0].Exchange))
        {
            var message = $"The domain {domain} accepts no mail: it publishes a null MX (RFC 7505).";
            return Fail(domain, MxResolutionStatus.NullMx, message, mx.CacheFor, []);
        }

        var hosts = new List<(string Host, int Preference)>(records.Count);
        var seen = new Dictionary<string, int>(records.Count, StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (IsRoot(record.Exchange))
            {
                warnings.Add($"An MX record of {domain} has the null target '.' beside other MX records (RFC 7505 section 3 forbids it); it is ignored.");
                continue;
            }

            var host = HostName(record.Exchange);
            if (seen.TryGetValue(host, out var at))
            {
                // The same host twice: it is tried once, at its best preference.
                hosts[at] = (host, Math.Min(hosts[at].Preference, record.Preference));
                continue;
            }

            seen.Add(host, hosts.Count);
            hosts.Add((host, record.Preference));
        }

        // A stable sort: equal preferences are shuffled on every resolution anyway.
        var sorted = hosts.ToArray();
        var index = new int[sorted.Length];
        for (var i = 0; i < index.Length; i++)
        {
            index[i] = i;
        }

        Array.Sort(index, (a, b) => sorted[a].Preference != sorted[b].Preference ? sorted[a].Preference.CompareTo(sorted[b].Preference) : a.CompareTo(b));

        var considered = new List<(string Host, int Preference)>();
        foreach (var i in index)
        {
            var host = sorted[i];
            if (considered.Count >= _options.MaxMxHosts && host.Preference != considered[^1].Preference)
            {
                break;
            }

            if (considered.Count >= MaxHostsLookedUp)
            {
                break;
            }

            considered.Add(host);
        }

        if (considered.Count < hosts.Count)
        {
            warnings.Add($"{domain} has {hosts.Count} MX hosts; the {considered.Count} of lowest preference are considered ({nameof(MxResolverOptions.MaxMxHosts)} is {_options.MaxMxHosts}).");
        }

        var lookups = new Task<HostLookup>[considered.Count];
        for (var i = 0; i < considered.Count; i++)
        {
            lookups[i] = LookupHostAsync(domain, considered[i].Host, considered[i].Preference, mx.Authenticated);
        }

        await Task.WhenAll(lookups).ConfigureAwait(false);

        var targets = new List<MxTarget>(considered.Count);
        var cacheFor = mx.CacheFor;
        var anyTransient = false;
        var failures = new StringBuilder();
        foreach (var task in lookups)
        {
            var host = task.Result;
            cacheFor = Min(cacheFor, host.CacheFor);
            warnings.AddRange(host.Warnings);
            if (host.Target is not null)
            {
                targets.Add(host.Target);
                continue;
            }

            anyTransient |= host.IsTransient;
            failures.Append(failures.Length == 0 ? string.Empty : "; ").Append(host.Reason);
            warnings.Add($"MX host skipped: {host.Reason}.");
            MxResolverLog.TargetSkipped(_logger, domain, host.Reason);
        }

        if (targets.Count == 0)
        {
            return anyTransient
                ? Fail(domain, MxResolutionStatus.DnsFailure, $"None of the MX hosts of {domain} could be resolved, and a lookup failed in a way that may pass: {failures}.", cacheFor, warnings)
                : Fail(domain, MxResolutionStatus.NoUsableTargets, $"None of the MX hosts of {domain} has a usable address: {failures}.", cacheFor, warnings);
        }

        var text = $"{domain} has {targets.Count} usable MX host(s).";
        return Succeed(domain, text, targets, isImplicitMx: false, cacheFor, warnings);
    }

    /// <summary>RFC 5321 section 5.1: with no MX records, the domain itself is the single target, preference 0.</summary>
    private async Task<CacheEntry> ImplicitMxAsync(string domain, TimeSpan mxCacheFor, bool noMxAuthenticated)
    {
        var host = await LookupHostAsync(domain, domain, 0, noMxAuthenticated).ConfigureAwait(false);
        var cacheFor = Min(mxCacheFor, host.CacheFor);
        if (host.Target is not null)
        {
            return Succeed(domain, $"{domain} has no MX records; its own address is the implicit MX (RFC 5321 section 5.1).", [host.Target], isImplicitMx: true, cacheFor, host.Warnings);
        }

        return host.IsTransient
            ? Fail(domain, MxResolutionStatus.DnsFailure, $"{domain} has no MX records, and the lookup of its own address failed: {host.Reason}.", cacheFor, host.Warnings)
            : Fail(domain, MxResolutionStatus.NoUsableTargets, $"{domain} has no MX records and no usable address of its own: {host.Reason}.", cacheFor, host.Warnings);
    }

    // mxAuthenticated: the MX RRset (or its absence) was DNSSEC-validated; with secure addresses too, DANE can apply.
    private async Task<HostLookup> LookupHostAsync(string domain, string host, int preference, bool mxAuthenticated)
    {
        var family = _options.AddressFamilyPreference;
        if (MxDomain.IsDottedQuad(host))
        {
            // RFC 5321 section 5.1 wants a host name as MX target; "MX 10 192.0.2.1." is a name that looks like an address.
            if (!_options.AllowIpLiteralMxTargets)
            {
                return new HostLookup(null, false, $"the MX target {host} is an IP address, not a host name (RFC 5321 section 5.1; {nameof(MxResolverOptions.AllowIpLiteralMxTargets)} is false)", TimeSpan.MaxValue, []);
            }

            if (family == AddressFamilyPreference.IPv6Only)
            {
                return new HostLookup(null, false, $"{host} is an IPv4 address and the resolver is set to {family}", TimeSpan.MaxValue, []);
            }

            var literal = MxTarget.Create(host, preference, ImmutableArray.Create(new MxAddress(IPAddress.Parse(host))));
            return new HostLookup(literal, false, string.Empty, TimeSpan.MaxValue, [$"The MX target {host} of {domain} is an IP address; it is used as one ({nameof(MxResolverOptions.AllowIpLiteralMxTargets)} is true)."]);
        }

        var preferV6 = family is AddressFamilyPreference.PreferIPv6 or AddressFamilyPreference.IPv6Only;
        var firstType = preferV6 ? QueryType.AAAA : QueryType.A;
        var secondType = preferV6 ? QueryType.A : QueryType.AAAA;
        var onlyOne = family is AddressFamilyPreference.IPv4Only or AddressFamilyPreference.IPv6Only;

        var firstTask = QueryAsync(host, firstType);
        var secondTask = onlyOne ? null : QueryAsync(host, secondType);
        var first = await firstTask.ConfigureAwait(false);
        var second = secondTask is null ? (Lookup?)null : await secondTask.ConfigureAwait(false);

        var addresses = ImmutableArray.CreateBuilder<MxAddress>();
        AddAddresses(first, addresses);
        if (second is { } other)
        {
            AddAddresses(other, addresses);
        }

        var cacheFor = second is { } s ? Min(first.CacheFor, s.CacheFor) : first.CacheFor;
        var warnings = new List<string>();
        if (addresses.Count > 0)
        {
            foreach (var lookup in second is { } s2 ? [first, s2] : new[] { first })
            {
                if (lookup.Kind == LookupKind.Transient)
                {
                    warnings.Add($"The {lookup.Type} lookup of MX host {host} failed ({lookup.Reason}); its other addresses are used.");
                }
            }

            // RFC 7672 section 2.2.2: DANE needs secure address records; the lookups that gave none do not count (an
            // unanswered AAAA query must not turn DANE off for a host whose A records are secure).
            var authenticated = mxAuthenticated;
            authenticated &= first.Kind != LookupKind.Records || first.Authenticated;
            authenticated &= second is not { Kind: LookupKind.Records } || second.Value.Authenticated;
            var canonical = first.Kind == LookupKind.Records ? first.Canonical : second?.Canonical;
            var target = MxTarget.Create(host, preference, addresses.ToImmutable(), authenticated, canonical);
            return new HostLookup(target, false, string.Empty, cacheFor, warnings);
        }

        var transient = first.Kind == LookupKind.Transient || second is { Kind: LookupKind.Transient };
        string reason;
        if (transient)
        {
            var failed = first.Kind == LookupKind.Transient ? first : second!.Value;
            reason = $"the {failed.Type} lookup of {host} failed: {failed.Reason}";
        }
        else if (first.Kind == LookupKind.NxDomain || second is { Kind: LookupKind.NxDomain })
        {
            reason = $"{host} does not exist (NXDOMAIN)";
        }
        else
        {
            reason = onlyOne ? $"{host} has no {firstType} record (the resolver is set to {family})" : $"{host} has no A or AAAA record";
        }

        return new HostLookup(null, transient, reason, cacheFor, warnings);
    }

    private static void AddAddresses(Lookup lookup, ImmutableArray<MxAddress>.Builder addresses)
    {
        if (lookup.Kind != LookupKind.Records)
        {
            return;
        }

        foreach (var record in lookup.Records)
        {
            var address = record switch
            {
                ARecord a => a.Address,
                AaaaRecord aaaa => aaaa.Address,
                _ => null,
            };

            if (address is not null)
            {
                addresses.Add(new MxAddress(address));
            }
        }
    }

    /// <summary>
    /// One question, following CNAMEs: within the answer first (a recursive resolver gives the whole chain), then by
    /// asking for the chain's last name (an authoritative server gives only its own zone's part).
    /// </summary>
    private async Task<Lookup> QueryAsync(string name, QueryType type)
    {
        var current = name + ".";
        var cnames = 0;
        var ttl = TimeSpan.MaxValue;
        var authenticated = _trustsAuthenticatedData;
        while (true)
        {
            IDnsQueryResponse response;
            try
            {
                response = await _transport.QueryAsync(current, type, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // DnsClient throws when no server answered: timeouts, unreachable servers, broken TCP.
                var why = e is DnsResponseException { Code: DnsResponseCode.ConnectionTimeout } ? "no answer from the name server (timeout)" : $"no answer from the name server ({e.Message})";
                MxResolverLog.QueryFailed(_logger, current, type.ToString(), why, e);
                return Lookup.Transient(type, why, _options.TransientFailureCacheTime);
            }

            var code = response.Header.ResponseCode;
            if (code is not (DnsHeaderResponseCode.NoError or DnsHeaderResponseCode.NotExistentDomain))
            {
                // The resolver's Extended DNS Error (RFC 8914), when it sends one, says why: a DNSSEC-bogus answer, an
                // authority that did not answer, a policy block.
                var why = ExtendedDnsError.From(response) is { } error
                    ? $"{ResponseCodeName(code)} from {response.NameServer}: {error}"
                    : $"{ResponseCodeName(code)} from {response.NameServer}";
                MxResolverLog.QueryFailed(_logger, current, type.ToString(), why, null);
                return Lookup.Transient(type, why, _options.TransientFailureCacheTime);
            }

            // Every answer along a CNAME chain must be validated for the end of it to be.
            authenticated &= response.Header.IsAuthenticData;
            var records = new List<DnsResourceRecord>();
            var followedHere = false;
            while (true)
            {
                CNameRecord? alias = null;
                foreach (var record in response.Answers)
                {
                    if (!string.Equals(AsciiName(record.DomainName), current, StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    if (record.RecordType == (ResourceRecordType)type)
                    {
                        records.Add(record);
                        ttl = Min(ttl, TimeSpan.FromSeconds(record.TimeToLive));
                    }
                    else if (record is CNameRecord cname)
                    {
                        alias = cname;
                    }
                }

                if (records.Count > 0 || alias is null)
                {
                    break;
                }

                if (++cnames > _options.MaxCnameDepth)
                {
                    var why = $"{name} leads through more than {_options.MaxCnameDepth} CNAME records ({nameof(MxResolverOptions.MaxCnameDepth)})";
                    MxResolverLog.QueryFailed(_logger, name, type.ToString(), why, null);
                    return Lookup.Transient(type, why, _options.TransientFailureCacheTime);
                }

                ttl = Min(ttl, TimeSpan.FromSeconds(alias.TimeToLive));
                current = AsciiName(alias.CanonicalName);
                followedHere = true;
            }

            if (records.Count > 0)
            {
                var canonical = cnames == 0 ? null : (current.EndsWith('.') ? current[..^1] : current).ToLowerInvariant();
                return new Lookup(LookupKind.Records, type, records, string.Empty, Min(ttl, _options.MaxCacheTime), authenticated, canonical);
            }

            var negative = Min(ttl, NegativeTtl(response));
            if (code == DnsHeaderResponseCode.NotExistentDomain)
            {
                // RFC 6604: after CNAMEs the code is about the last name of the chain.
                return new Lookup(LookupKind.NxDomain, type, [], "NXDOMAIN", negative, authenticated, null);
            }

            if (followedHere)
            {
                continue; // the chain leaves the answering zone: ask for its last name
            }

            return new Lookup(LookupKind.NoData, type, [], "NODATA", negative, authenticated, null);
        }
    }

    /// <summary>RFC 2308 section 5: a negative answer is kept for the smaller of the SOA's TTL and its MINIMUM, here bounded too.</summary>
    private TimeSpan NegativeTtl(IDnsQueryResponse response) => NegativeTtl(response, _options.MaxNegativeCacheTime);

    /// <summary>RFC 2308 section 5 for any negative answer (the TLSA lookups' too): the SOA's TTL or MINIMUM, at most <paramref name="max"/>; zero without a SOA.</summary>
    internal static TimeSpan NegativeTtl(IDnsQueryResponse response, TimeSpan max)
    {
        foreach (var record in response.Authorities)
        {
            if (record is SoaRecord soa)
            {
                var seconds = Math.Min((long)soa.TimeToLive, (long)soa.Minimum);
                return Min(TimeSpan.FromSeconds(Math.Max(0, seconds)), max);
            }
        }

        return TimeSpan.Zero; // no SOA: RFC 2308 section 5 says not to keep it
    }

    private static string ResponseCodeName(DnsHeaderResponseCode code) => code switch
    {
        DnsHeaderResponseCode.ServerFailure => "SERVFAIL",
        DnsHeaderResponseCode.Refused => "REFUSED",
        DnsHeaderResponseCode.FormatError => "FORMERR",
        DnsHeaderResponseCode.NotImplemented => "NOTIMP",
        _ => "response code " + ((int)code).ToString(CultureInfo.InvariantCulture),
    };

    private static bool IsRoot(DnsString name) => name.Value is "." or "";

    /// <summary>An MX target as a host name: A-labels, lower case, without the trailing dot.</summary>
    private static string HostName(DnsString name)
    {
        var value = AsciiName(name);
        return (value.EndsWith('.') ? value[..^1] : value).ToLowerInvariant();
    }

    /// <summary>
    /// A name from a response in A-label form, as it was on the wire. DnsClient converts names with A-labels to
    /// Unicode, in <see cref="DnsString.Value"/> for some records and in <see cref="DnsString.Original"/> for others;
    /// names are compared and connected to in their wire form.
    /// </summary>
    private static string AsciiName(DnsString name)
    {
        if (Ascii.IsValid(name.Value))
        {
            return name.Value;
        }

        if (Ascii.IsValid(name.Original))
        {
            return name.Original;
        }

        try
        {
            return DomainName.ToAscii(name.Value);
        }
        catch (ArgumentException)
        {
            return name.Value;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private CacheEntry Succeed(string domain, string message, List<MxTarget> targets, bool isImplicitMx, TimeSpan cacheFor, List<string> warnings)
    {
        var resolution = MxResolution.Success(domain, message, [.. targets], isImplicitMx, isAddressLiteral: false, [.. warnings]);
        MxResolverLog.Resolved(_logger, domain, resolution);
        var hasTies = false;
        for (var i = 1; i < targets.Count; i++)
        {
            hasTies |= targets[i].Preference == targets[i - 1].Preference;
        }

        // Without equal preferences the order never changes: limit once, hand out the same instance every time.
        var fixedResolution = hasTies ? null : resolution.WithTargets(ApplyLimits([.. targets]));
        return NewEntry(domain, resolution, fixedResolution, cacheFor);
    }

    private CacheEntry Fail(string domain, MxResolutionStatus status, string message, TimeSpan cacheFor, List<string> warnings)
    {
        var resolution = MxResolution.Failure(domain, status, message, [.. warnings]);
        MxResolverLog.Failed(_logger, domain, status, message);
        return NewEntry(domain, resolution, resolution, cacheFor);
    }

    private CacheEntry NewEntry(string domain, MxResolution template, MxResolution? fixedResolution, TimeSpan cacheFor)
    {
        cacheFor = Min(cacheFor, _options.MaxCacheTime);
        if (_options.UseCache && cacheFor > TimeSpan.Zero)
        {
            MxResolverLog.Cached(_logger, domain, cacheFor);
        }

        var ticks = (long)(cacheFor.TotalSeconds * _time.TimestampFrequency);
        return new CacheEntry(template, fixedResolution, _time.GetTimestamp() + ticks);
    }

    private enum LookupKind
    {
        Records,
        NoData,
        NxDomain,
        Transient,
    }

    // Authenticated: every answer on the way was DNSSEC-validated (the AD bit, from a resolver that is believed).
    // Canonical: the name the records were found at after CNAMEs (a host name), or null when none was followed.
    private readonly record struct Lookup(LookupKind Kind, QueryType Type, List<DnsResourceRecord> Records, string Reason, TimeSpan CacheFor, bool Authenticated, string? Canonical)
    {
        public static Lookup Transient(QueryType type, string reason, TimeSpan cacheFor) => new(LookupKind.Transient, type, [], reason, cacheFor, false, null);
    }

    private sealed record HostLookup(MxTarget? Target, bool IsTransient, string Reason, TimeSpan CacheFor, List<string> Warnings);

    /// <summary>The addresses of a host (<see cref="ResolveHostAsync"/>), in the order to try them; none, and why, when it did not resolve.</summary>
    internal readonly record struct HostAddresses(ImmutableArray<MxAddress> Addresses, bool IsTransient, string Reason);

    private sealed record HostEntry(HostAddresses Result, long ExpiresAt);

    /// <summary>A resolution kept until <see cref="ExpiresAt"/> (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
    private sealed class CacheEntry(MxResolution template, MxResolution? fixedResolution, long expiresAt)
    {
        /// <summary>The resolution with every candidate target, sorted by preference, neither shuffled nor limited.</summary>
        public MxResolution Template { get; } = template;

        /// <summary>The resolution to hand out as is, when there is nothing to shuffle; null when each caller gets its own shuffle.</summary>
        public MxResolution? Fixed { get; } = fixedResolution;

        public long ExpiresAt { get; } = expiresAt;
    }

    // ---- TXT (MTA-STS's _mta-sts record) ------------------------------------------------------------------------

    /// <summary>
    /// The TXT records of <paramref name="name"/>, each record's strings joined (RFC 7208 section 3.3 style), through this
    /// resolver's name servers, CNAMEs followed. Not cached here: the caller keeps the answer for <see cref="TextRecords.CacheFor"/>.
    /// NXDOMAIN and NODATA are an empty answer; SERVFAIL, REFUSED and timeouts are <see cref="TextRecords.IsTransient"/>.
    /// </summary>
    /// <param name="name">A domain name, A-labels, without the trailing dot.</param>
    /// <param name="cancellationToken">Stops waiting; the query goes on, bounded by the query timeout.</param>
    internal async ValueTask<TextRecords> ResolveTextAsync(string name, CancellationToken cancellationToken)
    {
        var lookup = await QueryAsync(name, QueryType.TXT).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (lookup.Kind == LookupKind.Transient)
        {
            return new TextRecords([], IsTransient: true, lookup.CacheFor, lookup.Reason);
        }

        var records = new string[lookup.Records.Count];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = lookup.Records[i] is TxtRecord txt ? string.Concat(txt.Text) : string.Empty;
        }

        return new TextRecords(records, IsTransient: false, lookup.CacheFor, lookup.Reason);
    }

    /// <summary>The TXT records of a name (<see cref="ResolveTextAsync"/>): none when there are none, and how long the answer holds.</summary>
    internal readonly record struct TextRecords(string[] Records, bool IsTransient, TimeSpan CacheFor, string Reason);
}
