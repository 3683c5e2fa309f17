using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Delivery;

/// <summary>
/// Open SMTP sessions kept for reuse across SendAsync calls, per MX address: at most
/// <see cref="DirectMailOptions.MaxConnectionsPerHost"/> open to one address, idle ones probed with NOOP after a
/// short pause and closed with QUIT after <see cref="DirectMailOptions.PooledConnectionIdleTimeout"/>.
/// </summary>
internal sealed class SmtpConnectionPool : IAsyncDisposable
{
    private readonly DirectMailOptions _options;
    private readonly SmtpSessionOptions _tlsSessionOptions;
    private readonly SmtpSessionOptions _plainSessionOptions;
    private readonly ILogger _sessionLogger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<PoolKey, HostPool> _hosts = new();
    private readonly ITimer _pruning;
    private volatile bool _disposed;

    public SmtpConnectionPool(DirectMailOptions options, ILogger sessionLogger, TimeProvider time)
    {
        _options = options;
        _tlsSessionOptions = options.ToSessionOptions(plaintext: false);
        _plainSessionOptions = options.ToSessionOptions(plaintext: true);
        _sessionLogger = sessionLogger;
        _time = time;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, options.PooledConnectionIdleTimeout.Ticks / 2));
        _pruning = time.CreateTimer(static state => ((SmtpConnectionPool)state!).Prune(), this, period, period);
    }

    /// <summary>Gives a ready session to the address: an idle one that still works, or a new one.</summary>
    /// <returns>A lease holding the session, or, when connecting failed, the reason (and no session).</returns>
    public async ValueTask<Lease> RentAsync(IPEndPoint endPoint, string host, bool plaintext, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pool = _hosts.GetOrAdd(new PoolKey(endPoint, host, plaintext), static (_, max) => new HostPool(max), _options.MaxConnectionsPerHost);
        await pool.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (pool.Idle.TryPop(out var idle))
            {
                var age = _time.GetElapsedTime(idle.Since);
                if (age <= _options.PooledConnectionIdleTimeout && (age <= _options.PooledConnectionProbeAfter || await idle.Session.NoOpAsync(cancellationToken).ConfigureAwait(false)))
                {
                    return new Lease(pool, idle.Session, fromPool: true, null);
                }

                await CloseAsync(idle.Session).ConfigureAwait(false);
            }

            var session = new SmtpSession(plaintext ? _plainSessionOptions : _tlsSessionOptions, _sessionLogger);
            var result = await session.ConnectAsync(endPoint, host, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                pool.Slots.Release();
                return new Lease(null, null, fromPool: false, result);
            }

            DirectMailTelemetry.OpenConnections.Add(1);
            return new Lease(pool, session, fromPool: false, result);
        }
        catch
        {
            pool.Slots.Release();
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

        if (session.IsUsable && !_disposed)
        {
            pool.Idle.Push(new IdleSession(session, _time.GetTimestamp()));
        }
        else
        {
            await CloseAsync(session).ConfigureAwait(false);
        }

        pool.Slots.Release();
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
                closing.Add(CloseAsync(idle.Session).AsTask());
            }
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    private void Prune()
    {
        foreach (var pool in _hosts.Values)
        {
            // Sessions come back newest on top: pop all, keep the fresh ones in their order, close the stale ones.
            var keep = new List<IdleSession>();
            while (pool.Idle.TryPop(out var idle))
            {
                if (_time.GetElapsedTime(idle.Since) > _options.PooledConnectionIdleTimeout || !idle.Session.IsUsable)
                {
                    _ = CloseAsync(idle.Session).AsTask();
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
        }
    }

    private static async ValueTask CloseAsync(SmtpSession session)
    {
        try
        {
            await session.QuitAsync().ConfigureAwait(false);
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
            DirectMailTelemetry.OpenConnections.Add(-1);
        }
    }

    private readonly record struct PoolKey(IPEndPoint EndPoint, string Host, bool Plaintext);

    internal readonly record struct IdleSession(SmtpSession Session, long Since);

    internal sealed class HostPool(int maxConnections)
    {
        public SemaphoreSlim Slots { get; } = new(maxConnections, maxConnections);

        public ConcurrentStack<IdleSession> Idle { get; } = new();
    }

    /// <summary>A session lent by the pool, or why none could be had.</summary>
    internal readonly struct Lease(HostPool? pool, SmtpSession? session, bool fromPool, SmtpConnectResult? connect)
    {
        public HostPool? Pool { get; } = pool;

        public SmtpSession? Session { get; } = session;

        /// <summary>True when the session was idle in the pool (it may have been closed by the server meanwhile).</summary>
        public bool FromPool { get; } = fromPool;

        /// <summary>The connect result of a new session; null for a pooled one.</summary>
        public SmtpConnectResult? Connect { get; } = connect;
    }
}

/// <summary>
/// MX addresses that answered 421 (service closing, RFC 5321 section 3.8), left alone for a while across all SendAsync
/// calls so that an overloaded server is not hammered.
/// </summary>
internal sealed class HostBackoff(TimeProvider time, TimeSpan duration)
{
    private readonly ConcurrentDictionary<IPEndPoint, long> _until = new();

    public DateTimeOffset Mark(IPEndPoint endPoint)
    {
        _until[endPoint] = time.GetTimestamp() + (long)(duration.TotalSeconds * time.TimestampFrequency);
        return time.GetUtcNow() + duration;
    }

    public bool IsBackingOff(IPEndPoint endPoint)
    {
        if (!_until.TryGetValue(endPoint, out var until))
        {
            return false;
        }

        if (time.GetTimestamp() < until)
        {
            return true;
        }

        _until.TryRemove(new KeyValuePair<IPEndPoint, long>(endPoint, until));
        return false;
    }
}
