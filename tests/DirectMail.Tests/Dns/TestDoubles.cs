using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DnsClient;

namespace DirectMail.Tests.Dns;

/// <summary>The real DnsClient transport, counting the queries that reach the server (and optionally holding them back).</summary>
internal sealed class CountingTransport : IDnsTransport
{
    private readonly LookupClientTransport _inner;
    private readonly ConcurrentDictionary<(string, QueryType), int> _counts = new();
    private int _total;

    public CountingTransport(MxResolverOptions options) => _inner = new LookupClientTransport(options);

    /// <summary>When set, every query waits for this task first: lets a test pile up concurrent callers.</summary>
    public Task? Gate { get; set; }

    public int Total => Volatile.Read(ref _total);

    public int Count(string name, QueryType type) => _counts.TryGetValue((name.TrimEnd('.') + ".", type), out var n) ? n : 0;

    public async Task<IDnsQueryResponse> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _total);
        _counts.AddOrUpdate((name, type), 1, (_, n) => n + 1);
        if (Gate is { } gate)
        {
            await gate.ConfigureAwait(false);
        }

        return await _inner.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
    }
}
