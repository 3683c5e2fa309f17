using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Suppression;

/// <summary>
/// A suppression list in this process's memory: for tests, and for applications that load their list from elsewhere at
/// startup. Lost when the process ends; the SQLite and PostgreSQL stores keep theirs.
/// </summary>
public sealed class InMemorySuppressionStore : ISuppressionStore
{
    private readonly ConcurrentDictionary<string, SuppressedRecipient> _entries = new(StringComparer.Ordinal);

    /// <summary>How many recipients are suppressed.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public ValueTask AddAsync(SuppressedRecipient entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        _entries[entry.Address] = entry;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(string address, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_entries.TryRemove(SuppressionAddress.Normalize(address), out _));
    }

    /// <inheritdoc />
    public ValueTask<SuppressedRecipient?> FindAsync(string address, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_entries.TryGetValue(SuppressionAddress.Normalize(address), out var entry) ? entry : null);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SuppressedRecipient> ListAsync(string? afterAddress = null, int limit = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var all = new List<SuppressedRecipient>(_entries.Values);
        all.Sort(static (a, b) => string.CompareOrdinal(a.Address, b.Address));
        var given = 0;
        foreach (var entry in all)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (afterAddress is not null && string.CompareOrdinal(entry.Address, afterAddress) <= 0)
            {
                continue;
            }

            if (given++ == limit)
            {
                yield break;
            }

            yield return entry;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
