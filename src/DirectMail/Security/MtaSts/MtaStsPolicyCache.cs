using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Dns;
using Microsoft.Extensions.Logging;

namespace DirectMail.Security.MtaSts;

/// <summary>
/// The MTA-STS policies of recipient domains, in memory (and in an <see cref="IMtaStsPolicyStore"/> when there is one),
/// by RFC 8461 section 5.1:
/// <list type="bullet">
/// <item>The <c>_mta-sts</c> TXT record is looked up again once its TTL has passed; a policy cached for the same id serves
/// without a fetch, a changed id makes the policy be fetched again.</item>
/// <item>A policy is kept for its <c>max_age</c> from its fetch, and fetched again in the background once half of it has
/// passed, so that it is refreshed before it expires.</item>
/// <item>A cached, unexpired policy keeps serving while a fetch fails, the TXT record is missing or DNS fails.</item>
/// <item>Without a cached policy, a failed fetch or a missing record means no policy; a failure is not retried for a few minutes.</item>
/// </list>
/// A cached policy whose TXT answer is current is served synchronously and without allocating. Thread-safe; one per mailer.
/// </summary>
internal sealed class MtaStsPolicyCache : IMtaStsPolicySource
{
    /// <summary>How long a domain without a usable policy (a failed fetch, a DNS failure) is not asked again.</summary>
    internal static readonly TimeSpan FailureHoldTime = TimeSpan.FromMinutes(5);

    /// <summary>The bounds of how long a TXT answer is trusted, whatever its TTL: at least 30 seconds, at most an hour.</summary>
    internal static readonly TimeSpan MinTxtTime = TimeSpan.FromSeconds(30);

    internal static readonly TimeSpan MaxTxtTime = TimeSpan.FromHours(1);

    private const int MaxEntries = 100_000;

    private readonly Func<string, CancellationToken, ValueTask<MxResolver.TextRecords>> _txt;
    private readonly Func<string, CancellationToken, Task<MtaStsFetchResult>> _fetch;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<MtaStsLookup>> _inFlight = new(StringComparer.Ordinal);

    /// <param name="txt">The TXT records of a name, through the mailer's DNS.</param>
    /// <param name="fetch">Fetches a domain's policy over HTTPS (<see cref="MtaStsPolicyFetcher.FetchAsync"/>).</param>
    /// <param name="store">Where policies are kept across restarts; null for memory only.</param>
    /// <param name="time">The clock of max_age, TTLs and refreshes.</param>
    /// <param name="logger">Where fetches and failures are logged.</param>
    public MtaStsPolicyCache(Func<string, CancellationToken, ValueTask<MxResolver.TextRecords>> txt, Func<string, CancellationToken, Task<MtaStsFetchResult>> fetch, IMtaStsPolicyStore? store, TimeProvider time, ILogger logger)
    {
        _txt = txt;
        _fetch = fetch;
        Store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>Where policies are kept across restarts; null for memory only. Set before the first delivery (the queue's worker does).</summary>
    internal IMtaStsPolicyStore? Store { get; set; }

    /// <summary>How many policy fetches were started (tests count them).</summary>
    internal int Fetches => Volatile.Read(ref _fetches);

    private int _fetches;

    /// <inheritdoc />
    public ValueTask<MtaStsLookup> GetPolicyAsync(string domain, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(domain, out var entry))
        {
            var now = _time.GetUtcNow();
            if (now < entry.RecheckAt)
            {
                if (entry.Policy is { } policy && now < entry.ExpiresAt)
                {
                    if (now >= entry.RefreshAt)
                    {
                        StartRefresh(domain);
                    }

                    return new ValueTask<MtaStsLookup>(new MtaStsLookup(policy));
                }

                if (entry.Policy is null)
                {
                    return new ValueTask<MtaStsLookup>(MtaStsLookup.NoPolicy);
                }
            }
        }

        return new ValueTask<MtaStsLookup>(LookupSingleFlightAsync(domain, refresh: false).WaitAsync(cancellationToken));
    }

    /// <summary>The entry of <paramref name="domain"/>, for <c>directmail mx --tls</c> and tests: the policy, its id and times.</summary>
    internal (MtaStsPolicy? Policy, string? Id, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt)? Peek(string domain) =>
        _entries.TryGetValue(domain, out var e) ? (e.Policy, e.Id, e.FetchedAt, e.ExpiresAt) : null;

    private void StartRefresh(string domain)
    {
        if (!_inFlight.ContainsKey(domain))
        {
            // Fire and forget: the cached policy serves meanwhile; the refresh's own failures are logged and held.
            _ = LookupSingleFlightAsync(domain, refresh: true);
        }
    }

    private Task<MtaStsLookup> LookupSingleFlightAsync(string domain, bool refresh)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(domain, out var running))
            {
                return running;
            }

            var completion = new TaskCompletionSource<MtaStsLookup>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(domain, completion.Task))
            {
                _ = RunAsync(domain, refresh, completion);
                return completion.Task;
            }
        }
    }

    private async Task RunAsync(string domain, bool refresh, TaskCompletionSource<MtaStsLookup> completion)
    {
        try
        {
            completion.SetResult(await LookupAsync(domain, refresh).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            // A bug or an unexpected failure must not turn into an exception on the delivery path: no policy, logged.
            TransportSecurityLog.PolicyFetchFailed(_logger, domain, nameof(TlsFailureType.StsPolicyFetchError), e.Message);
            completion.SetResult(MtaStsLookup.NoPolicy);
        }
        finally
        {
            _inFlight.TryRemove(domain, out _);
        }
    }

    private async Task<MtaStsLookup> LookupAsync(string domain, bool refresh)
    {
        var now = _time.GetUtcNow();
        _entries.TryGetValue(domain, out var cached);
        if (cached is null && Store is { } store)
        {
            cached = await LoadAsync(store, domain, now).ConfigureAwait(false);
        }

        // A cached policy serves until its max_age has passed, whatever DNS and HTTPS do meanwhile.
        var valid = cached is { Policy: not null } && now < cached.ExpiresAt ? cached : null;

        var txt = await _txt("_mta-sts." + domain, CancellationToken.None).ConfigureAwait(false);
        var txtTime = Clamp(txt.CacheFor);
        if (txt.IsTransient)
        {
            TransportSecurityLog.TxtRecord(_logger, domain, "lookup failed: " + txt.Reason);
            Keep(domain, valid, now + (valid is null ? FailureHoldTime : Clamp(txt.CacheFor)));
            return new MtaStsLookup(valid?.Policy);
        }

        var id = MtaStsRecord.FindId(txt.Records, out var recordError);
        if (id is null)
        {
            // No (usable) record: no new policy. A cached one keeps serving until it expires (RFC 8461 section 10.2
            // withdraws a policy by publishing mode none, not by removing the record).
            TransportSecurityLog.TxtRecord(_logger, domain, recordError ?? "none");
            Keep(domain, valid, now + txtTime);
            return new MtaStsLookup(valid?.Policy);
        }

        // Same id, not yet due for a refresh: the cached policy stands. Due (half of max_age passed), it is fetched again,
        // and the cached one still serves if that fails.
        if (valid is not null && valid.Id == id && !refresh && now < valid.RefreshAt)
        {
            Keep(domain, valid, now + txtTime);
            return new MtaStsLookup(valid.Policy);
        }

        Interlocked.Increment(ref _fetches);
        var fetched = await _fetch(domain, CancellationToken.None).ConfigureAwait(false);
        now = _time.GetUtcNow();
        if (fetched.Policy is { } policy)
        {
            var fresh = new Entry(policy, id, now, now + policy.MaxAge, now + policy.MaxAge / 2, now + txtTime);
            Put(domain, fresh);
            TransportSecurityLog.PolicyFetched(_logger, domain, policy.Mode.ToString(), (long)policy.MaxAge.TotalSeconds, id);
            if (Store is { } keep)
            {
                await SaveAsync(keep, domain, fresh).ConfigureAwait(false);
            }

            return new MtaStsLookup(policy);
        }

        var failure = fetched.Failure ?? TlsFailureType.StsPolicyFetchError;
        var detail = fetched.Detail ?? "The policy could not be fetched.";
        if (valid is not null)
        {
            // RFC 8461 section 5.1: keep using the cached policy; try again after the hold time.
            TransportSecurityLog.CachedPolicyKept(_logger, domain, detail, valid.Id!, valid.ExpiresAt);
            Keep(domain, valid with { RefreshAt = valid.RefreshAt > now ? valid.RefreshAt : now + FailureHoldTime }, now + FailureHoldTime);
        }
        else
        {
            TransportSecurityLog.PolicyFetchFailed(_logger, domain, failure.ToString(), detail);
            Keep(domain, null, now + FailureHoldTime);
        }

        return new MtaStsLookup(valid?.Policy, failure, detail);
    }

    /// <summary>Keeps <paramref name="valid"/> (or, when null, no policy) until the next look at the TXT record.</summary>
    private void Keep(string domain, Entry? valid, DateTimeOffset recheckAt) =>
        Put(domain, valid is null ? Entry.None(recheckAt) : valid with { RecheckAt = recheckAt });

    private void Put(string domain, Entry entry)
    {
        if (_entries.Count >= MaxEntries && !_entries.ContainsKey(domain))
        {
            // Bounded: a flood of recipient domains cannot grow the cache without end; entries without a policy go first.
            foreach (var (key, value) in _entries)
            {
                if (value.Policy is null || value.ExpiresAt <= _time.GetUtcNow())
                {
                    _entries.TryRemove(key, out _);
                }
            }

            if (_entries.Count >= MaxEntries)
            {
                return;
            }
        }

        _entries[domain] = entry;
    }

    private async ValueTask<Entry?> LoadAsync(IMtaStsPolicyStore store, string domain, DateTimeOffset now)
    {
        try
        {
            var stored = await store.LoadAsync(domain, CancellationToken.None).ConfigureAwait(false);
            if (stored is null || stored.ExpiresAt <= now || MtaStsPolicy.Parse(stored.Text, out _) is not { } policy)
            {
                return null;
            }

            var age = stored.ExpiresAt - stored.FetchedAt;
            return new Entry(policy, stored.Id, stored.FetchedAt, stored.ExpiresAt, stored.FetchedAt + age / 2, now);
        }
        catch (Exception e)
        {
            TransportSecurityLog.StoreFailed(_logger, "load", domain, e.Message);
            return null;
        }
    }

    private async ValueTask SaveAsync(IMtaStsPolicyStore store, string domain, Entry entry)
    {
        try
        {
            await store.SaveAsync(new StoredMtaStsPolicy(domain, entry.Id!, entry.Policy!.Text, entry.FetchedAt, entry.ExpiresAt), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            TransportSecurityLog.StoreFailed(_logger, "save", domain, e.Message);
        }
    }

    private static TimeSpan Clamp(TimeSpan ttl) => ttl < MinTxtTime ? MinTxtTime : ttl > MaxTxtTime ? MaxTxtTime : ttl;

    /// <summary>A domain's state: its policy (null: none usable), the TXT id it was fetched for, its times, and when to look at the TXT record again.</summary>
    private sealed record Entry(MtaStsPolicy? Policy, string? Id, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt, DateTimeOffset RefreshAt, DateTimeOffset RecheckAt)
    {
        public static Entry None(DateTimeOffset recheckAt) => new(null, null, default, default, default, recheckAt);
    }
}
