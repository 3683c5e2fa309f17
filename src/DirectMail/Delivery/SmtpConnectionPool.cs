using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Security;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Delivery;

/// <summary>
/// Open SMTP sessions kept for reuse across SendAsync calls, per MX host (name, address and session settings:
/// <see cref="PoolKey"/>): at most <see cref="SmtpPoolLimits.MaxConnectionsPerHost"/> open to one, idle ones probed with NOOP after
/// <see cref="SmtpPoolLimits.ProbeAfter"/> (the probe waits <see cref="SmtpPoolLimits.ProbeTimeout"/>, not the command
/// timeout) and closed with QUIT after <see cref="SmtpPoolLimits.IdleTimeout"/>. An address's entry lives only
/// while a session to it is leased, being opened or idle: the pool does not keep every host it ever saw, and its prune
/// timer runs only while idle sessions exist.
/// </summary>
internal sealed class SmtpConnectionPool : IAsyncDisposable, IDisposable
{
    private readonly SmtpPoolLimits _limits;
    private readonly SmtpSessionOptions _tlsSessionOptions;
    private readonly SmtpSessionOptions _plainSessionOptions;
    private readonly ILogger _sessionLogger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<PoolKey, HostPool> _hosts = new();
    private readonly ITimer _pruning;
    private readonly TimeSpan _prunePeriod;
    private readonly object _timerGate = new();
    private readonly object _pruneGate = new();
    private volatile bool _pruneArmed;
    private volatile bool _disposed;
    private volatile bool _aborting;

    /// <param name="tlsSessionOptions">The options of a new session (TLS as configured).</param>
    /// <param name="plainSessionOptions">The options of a new session to an address whose TLS handshake failed (opportunistic fallback, no TLS).</param>
    /// <param name="limits">Sessions per address, idle and probe times.</param>
    /// <param name="sessionLogger">The sessions' logger (the SMTP transcript).</param>
    /// <param name="time">The clock of idle times and probes.</param>
    public SmtpConnectionPool(SmtpSessionOptions tlsSessionOptions, SmtpSessionOptions plainSessionOptions, SmtpPoolLimits limits, ILogger sessionLogger, TimeProvider time)
    {
        _limits = limits;
        _tlsSessionOptions = tlsSessionOptions;
        _plainSessionOptions = plainSessionOptions;
        _sessionLogger = sessionLogger;
        _time = time;
        _prunePeriod = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, limits.IdleTimeout.Ticks / 2));

        // Created stopped: armed when a session goes idle, stopped again when none is left.
        _pruning = time.CreateTimer(static state => ((SmtpConnectionPool)state!).Prune(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How many addresses the pool holds an entry for (leased, connecting or idle sessions).</summary>
    internal int HostCount => _hosts.Count;

    /// <summary>How many sends wait for a connection now, over every address (taken ones included until handed over; for inspection).</summary>
    internal int WaitingCount()
    {
        var count = 0;
        foreach (var pool in _hosts.Values)
        {
            count += pool.Waiting.Count;
        }

        return count;
    }

    /// <summary>The sessions idle in the pool now, over every address (a snapshot, for inspection).</summary>
    internal List<SmtpSession> IdleSessions()
    {
        var sessions = new List<SmtpSession>();
        foreach (var pool in _hosts.Values)
        {
            foreach (var idle in pool.Idle)
            {
                sessions.Add(idle.Session);
            }
        }

        return sessions;
    }

    /// <summary>True while the prune timer is running (only while idle sessions may exist).</summary>
    internal bool IsPruneTimerArmed => _pruneArmed;

    /// <summary>Gives a ready session to the address: an idle one that still works, or a new one.</summary>
    /// <param name="endPoint">The address and port.</param>
    /// <param name="host">The host name (the certificate is checked against it).</param>
    /// <param name="plaintext">The retry without TLS of an MX whose handshake failed.</param>
    /// <param name="relayOptions">
    /// A relay's session options (its TLS and credentials); null for an MX. A relay's sessions are kept apart, keyed by
    /// these options: each is authenticated once, when opened, and reused authenticated.
    /// </param>
    /// <param name="requirement">
    /// What the domain's transport-security policy demands of the session (MTA-STS, DANE); null for opportunistic TLS.
    /// Sessions are kept apart by its <see cref="TlsRequirement.PoolClass"/>: a session is only reused for a requirement
    /// of the class it was opened for, so an opportunistic session never carries mail a policy requires TLS for.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting and connecting.</param>
    /// <param name="envelope">
    /// With <paramref name="content"/>, the first transaction the renter will send. When every connection to the host
    /// is busy, it waits as a <see cref="WaitingSend"/>: a busy session may write its envelope behind the end of its
    /// last message and be handed over with it (the renter's <c>SendAsync</c> with this very envelope continues).
    /// </param>
    /// <param name="content">The content of that transaction.</param>
    /// <returns>A lease holding the session, or, when connecting failed, the reason (and no session).</returns>
    public async ValueTask<Lease> RentAsync(IPEndPoint endPoint, string host, bool plaintext, SmtpSessionOptions? relayOptions, TlsRequirement? requirement, CancellationToken cancellationToken, SmtpEnvelope? envelope = null, SmtpContent? content = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        requirement ??= TlsRequirement.Opportunistic;
        var key = new PoolKey(endPoint, host, plaintext, relayOptions, requirement.PoolClass);
        HostPool pool;
        while (true)
        {
            pool = _hosts.GetOrAdd(key, static (k, max) => new HostPool(k, max), _limits.MaxConnectionsPerHost);
            if (pool.TryEnter())
            {
                break;
            }

            // Retired by Prune or by the last user between the lookup and here: a fresh entry replaces it.
        }

        try
        {
            if (!pool.Slots.Wait(0))
            {
                if (envelope is not null && content is not null && await WaitForSlotOrSessionAsync(pool, new WaitingSend(envelope, content), cancellationToken).ConfigureAwait(false) is { } handed)
                {
                    // The session and its slot pass from its last renter to this one, still counted as used.
                    return new Lease(pool, handed, fromPool: true, null, default, null, null);
                }

                if (envelope is null || content is null)
                {
                    await pool.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            Leave(pool);
            throw;
        }

        try
        {
            while (pool.Idle.TryPop(out var idle))
            {
                var age = _time.GetElapsedTime(idle.Since);
                bool reusable;
                try
                {
                    reusable = age <= _limits.IdleTimeout && (age <= _limits.ProbeAfter || await ProbeAsync(idle.Session, cancellationToken).ConfigureAwait(false));
                }
                catch
                {
                    // Canceled during the probe: the session closed its connection; it is disposed and counted out.
                    await CloseAsync(idle.Session, pool, idle: true).ConfigureAwait(false);
                    throw;
                }

                if (reusable)
                {
                    Count(pool, idle: true, -1);
                    Count(pool, idle: false, 1);
                    return new Lease(pool, idle.Session, fromPool: true, null, default, null, null);
                }

                await CloseAsync(idle.Session, pool, idle: true).ConfigureAwait(false);
            }

            var session = new SmtpSession(relayOptions ?? (plaintext ? _plainSessionOptions : _tlsSessionOptions), _sessionLogger, requirement);
            var result = await session.ConnectAsync(endPoint, host, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                // What TLS-RPT reports of a failed session (sending-mta-ip, receiving-mx-helo) is read before it is disposed.
                var failed = new Lease(null, null, fromPool: false, result, session.Tls, session.LocalEndPoint?.Address, Helo(session));
                await session.DisposeAsync().ConfigureAwait(false);
                pool.Slots.Release();
                Leave(pool);
                return failed;
            }

            Count(pool, idle: false, 1);
            return new Lease(pool, session, fromPool: false, result, session.Tls, session.LocalEndPoint?.Address, Helo(session));
        }
        catch
        {
            pool.Slots.Release();
            Leave(pool);
            throw;
        }
    }

    /// <summary>Takes a session back: kept when still usable, closed otherwise.</summary>
    public async ValueTask ReturnAsync(Lease lease)
    {
        if (lease.Session is not { } session || lease.Pool is not { } pool)
        {
            return;
        }

        if (session.HandedTo is WaitingSend waiting)
        {
            if (session.IsUsable && !_disposed && waiting.TryHand(session))
            {
                // The waiter takes the session, its slot and its count as used; this renter only leaves.
                Leave(pool);
                return;
            }

            // Closed, or the waiter was canceled: a pre-sent envelope's replies would be read by nobody, so the
            // connection cannot be reused (nor QUIT sent: after DATA's 354 it would be message text). The waiter, if
            // still waiting, gets a slot the usual way.
            waiting.TryHand(null);
            Abort(session, pool, idle: false);
            pool.Slots.Release();
            Leave(pool);
            return;
        }

        if (session.IsUsable && !_disposed)
        {
            Count(pool, idle: false, -1);
            Count(pool, idle: true, 1);
            pool.Idle.Push(new IdleSession(session, _time.GetTimestamp()));
            ArmPruning();
        }
        else if (_aborting)
        {
            Abort(session, pool, idle: false);
        }
        else
        {
            await CloseAsync(session, pool, idle: false).ConfigureAwait(false);
        }

        pool.Slots.Release();
        Leave(pool);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _pruning.Dispose();
        var closing = new List<Task>();
        foreach (var pool in _hosts.Values)
        {
            while (pool.Idle.TryPop(out var idle))
            {
                closing.Add(CloseAsync(idle.Session, pool, idle: true).AsTask());
            }
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes every idle session at once, without QUIT (the synchronous dispose, as <c>SocketsHttpHandler</c> does);
    /// a session leased now is closed the same way when it comes back.
    /// </summary>
    public void Dispose()
    {
        _aborting = true;
        _disposed = true;
        _pruning.Dispose();
        foreach (var pool in _hosts.Values)
        {
            while (pool.Idle.TryPop(out var idle))
            {
                Abort(idle.Session, pool, idle: true);
            }
        }
    }

    /// <summary>
    /// Waits for a connection slot of <paramref name="pool"/> or for a busy session to take <paramref name="waiting"/>,
    /// whichever comes first. Returns the session handed over, or null when this renter now holds a slot.
    /// </summary>
    private static async ValueTask<SmtpSession?> WaitForSlotOrSessionAsync(HostPool pool, WaitingSend waiting, CancellationToken cancellationToken)
    {
        pool.Waiting.Enqueue(waiting);
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var slot = pool.Slots.WaitAsync(stop.Token);
            if (await Task.WhenAny(slot, waiting.Session).ConfigureAwait(false) == slot && waiting.TryWithdraw())
            {
                await slot.ConfigureAwait(false); // throws when canceled: nothing is held
                return null;
            }

            // A session took it: the slot comes with the session, so one won meanwhile goes back.
            stop.Cancel();
            try
            {
                await slot.ConfigureAwait(false);
                pool.Slots.Release();
            }
            catch (OperationCanceledException)
            {
            }
        }

        SmtpSession? session;
        try
        {
            session = await waiting.Session.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (waiting.TryAbandon())
        {
            // Its taker will close the session rather than hand it over (its envelope may be on the wire).
            throw;
        }
        catch (OperationCanceledException)
        {
            // Handed over in the same instant: the caller's send will see the cancellation and close the session.
            session = waiting.Session.Result;
        }

        if (session is null)
        {
            // The session that took it closed before the handover: wait for a slot as anyone.
            await pool.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return session;
    }

    /// <summary>Closes idle sessions older than the idle timeout, forgets addresses left with no session, and stops the timer when no idle session is left.</summary>
    internal void Prune()
    {
        lock (_pruneGate)
        {
            PruneLocked();
        }
    }

    private void PruneLocked()
    {
        var idleLeft = false;
        foreach (var pool in _hosts.Values)
        {
            // Counted in as a user while the stack is emptied and refilled, so that the entry is not retired meanwhile.
            if (!pool.TryEnter())
            {
                continue;
            }

            // Sessions come back newest on top: pop all, keep the fresh ones in their order, close the stale ones.
            var keep = new List<IdleSession>();
            while (pool.Idle.TryPop(out var idle))
            {
                if (_time.GetElapsedTime(idle.Since) > _limits.IdleTimeout || !idle.Session.IsUsable)
                {
                    _ = CloseAsync(idle.Session, pool, idle: true).AsTask();
                }
                else
                {
                    keep.Add(idle);
                }
            }

            for (var i = keep.Count - 1; i >= 0; i--)
            {
                pool.Idle.Push(keep[i]);
            }

            idleLeft |= keep.Count > 0;
            Leave(pool);
        }

        if (idleLeft || _disposed)
        {
            return;
        }

        lock (_timerGate)
        {
            _pruneArmed = false;
            _pruning.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        // A session that went idle while the timer was being stopped saw it still armed: look once more.
        foreach (var pool in _hosts.Values)
        {
            if (!pool.Idle.IsEmpty)
            {
                ArmPruning();
                return;
            }
        }
    }

    private void ArmPruning()
    {
        if (_pruneArmed)
        {
            return;
        }

        lock (_timerGate)
        {
            if (!_pruneArmed && !_disposed)
            {
                _pruneArmed = true;
                _pruning.Change(_prunePeriod, _prunePeriod);
            }
        }
    }

    /// <summary>A renter is done with the entry (its lease returned, or its connect failed): the entry goes when it was the last and nothing is idle.</summary>
    private void Leave(HostPool pool)
    {
        pool.Exit();
        TryRetire(pool);
    }

    private void TryRetire(HostPool pool)
    {
        if (pool.TryRetire())
        {
            _hosts.TryRemove(new KeyValuePair<PoolKey, HostPool>(pool.Key, pool));
        }
    }

    private static async ValueTask CloseAsync(SmtpSession session, HostPool pool, bool idle)
    {
        try
        {
            await session.QuitAsync().ConfigureAwait(false);
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
            Count(pool, idle, -1);
        }
    }

    /// <summary>directmail.connection.count: a connection of <paramref name="pool"/> comes into or leaves the idle or used state.</summary>
    private static void Count(HostPool pool, bool idle, int delta) =>
        DirectMailTelemetry.Connections.Add(delta, idle ? pool.IdleTags : pool.UsedTags);

    /// <summary>Closes the connection without QUIT (the session's dispose does no I/O).</summary>
    private static void Abort(SmtpSession session, HostPool pool, bool idle)
    {
        _ = session.DisposeAsync().AsTask();
        Count(pool, idle, -1);
    }

    /// <summary>NOOP with its own short deadline: a peer that went silent costs the probe timeout, not the command timeout.</summary>
    private async ValueTask<bool> ProbeAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        using var probe = new CancellationTokenSource(_limits.ProbeTimeout, _time);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), probe);
        try
        {
            return await session.NoOpAsync(probe.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The probe timed out; the session closed its connection. A fresh one is opened.
            return false;
        }
    }

    /// <summary>An address, its name, and the settings of its sessions (the relay's options by reference, null for an MX; the transport-security class of <see cref="TlsRequirement.PoolClass"/>).</summary>
    internal readonly record struct PoolKey(IPEndPoint EndPoint, string Host, bool Plaintext, SmtpSessionOptions? RelayOptions, int TlsClass = 0);

    internal readonly record struct IdleSession(SmtpSession Session, long Since);

    internal sealed class HostPool(PoolKey key, int maxConnections) : IWaitingTransactionSource
    {
        private readonly object _gate = new();
        private int _users;
        private bool _retired;

        public PoolKey Key { get; } = key;

        public SemaphoreSlim Slots { get; } = new(maxConnections, maxConnections);

        public ConcurrentStack<IdleSession> Idle { get; } = new();

        /// <summary>Sends waiting for a connection while all are busy, oldest first (withdrawn ones are skipped when met).</summary>
        public ConcurrentQueue<WaitingSend> Waiting { get; } = new();

        /// <summary>The oldest send still waiting, now taken by the calling session; null when none waits.</summary>
        public IWaitingTransaction? TryTake()
        {
            while (Waiting.TryDequeue(out var waiting))
            {
                if (waiting.TryTake())
                {
                    return waiting;
                }
            }

            return null;
        }

        /// <summary>The attributes of directmail.connection.count for this host's connections (made once: no allocation per measurement).</summary>
        public KeyValuePair<string, object?>[] IdleTags { get; } = Tags(key, "idle");

        public KeyValuePair<string, object?>[] UsedTags { get; } = Tags(key, "used");

        private static KeyValuePair<string, object?>[] Tags(PoolKey key, string state) =>
        [
            new(DirectMailTelemetry.ConnectionStateAttribute, state),
            new("server.address", key.Host),
            new("server.port", key.EndPoint.Port),
        ];

        /// <summary>Counts a renter in; false when the entry was retired (removed from the pool) meanwhile.</summary>
        public bool TryEnter()
        {
            lock (_gate)
            {
                if (_retired)
                {
                    return false;
                }

                _users++;
                return true;
            }
        }

        public void Exit()
        {
            lock (_gate)
            {
                _users--;
            }
        }

        /// <summary>Retires the entry when no renter holds or waits for it and no session is idle in it.</summary>
        public bool TryRetire()
        {
            lock (_gate)
            {
                if (_retired || _users > 0 || !Idle.IsEmpty)
                {
                    return false;
                }

                _retired = true;
                return true;
            }
        }
    }

    /// <summary>The host name the server gave in its EHLO reply (TLS-RPT's <c>receiving-mx-helo</c>), or null before EHLO.</summary>
    private static string? Helo(SmtpSession session) => session.Capabilities.ServerDomain is { Length: > 0 } helo ? helo : null;

    /// <summary>A session lent by the pool, or why none could be had.</summary>
    internal readonly struct Lease(HostPool? pool, SmtpSession? session, bool fromPool, SmtpConnectResult? connect, TlsOutcome tls, System.Net.IPAddress? localAddress, string? serverHelo)
    {
        /// <summary>This host's address on a new session's connection (failed or not), for TLS-RPT's <c>sending-mta-ip</c>; null for a pooled session.</summary>
        public System.Net.IPAddress? LocalAddress { get; } = localAddress;

        /// <summary>The host name in a new session's EHLO reply (failed or not), for TLS-RPT's <c>receiving-mx-helo</c>; null when unknown.</summary>
        public string? ServerHelo { get; } = serverHelo;

        /// <summary>The TLS result of a new session's setup (failed or not), for the TLS-RPT sink; default for a pooled session (nothing new to report).</summary>
        public TlsOutcome Tls { get; } = tls;

        public HostPool? Pool { get; } = pool;

        public SmtpSession? Session { get; } = session;

        /// <summary>True when the session was idle in the pool (it may have been closed by the server meanwhile).</summary>
        public bool FromPool { get; } = fromPool;

        /// <summary>The connect result of a new session; null for a pooled one.</summary>
        public SmtpConnectResult? Connect { get; } = connect;
    }
}
