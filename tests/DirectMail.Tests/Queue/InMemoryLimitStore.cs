using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>
/// A store that shares limits (<see cref="IQueueLimitStore"/>): the in-memory store for the queue, the worker's
/// in-process limits for the limits, and a count of every limit call (with the waits it answered), so tests see the
/// worker go through the store.
/// </summary>
internal sealed class InMemoryLimitStore(InMemoryQueueStore inner) : IMailQueueStore, IQueueLimitStore
{
    private readonly InProcessLimitStore _limits = new();

    public InMemoryQueueStore Inner => inner;

    public List<(string Key, TimeSpan Wait)> Tokens { get; } = new();

    public List<(string Key, string Holder, bool Taken)> Acquires { get; } = new();

    public List<(string Key, string Holder)> Releases { get; } = new();

    public async ValueTask<TimeSpan> TakeMessageTokenAsync(string key, double messagesPerSecond, double burst, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var wait = await _limits.TakeMessageTokenAsync(key, messagesPerSecond, burst, now, cancellationToken);
        lock (Tokens)
        {
            Tokens.Add((key, wait));
        }

        return wait;
    }

    public async ValueTask<bool> TryAcquireConnectionSlotAsync(string key, int maxConnections, string holder, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var taken = await _limits.TryAcquireConnectionSlotAsync(key, maxConnections, holder, now, leaseUntil, cancellationToken);
        lock (Acquires)
        {
            Acquires.Add((key, holder, taken));
        }

        return taken;
    }

    public async ValueTask ReleaseConnectionSlotAsync(string key, string holder, CancellationToken cancellationToken)
    {
        await _limits.ReleaseConnectionSlotAsync(key, holder, cancellationToken);
        lock (Releases)
        {
            Releases.Add((key, holder));
        }
    }

    public ValueTask EnqueueAsync(QueueEntry entry, Stream content, CancellationToken cancellationToken) => inner.EnqueueAsync(entry, content, cancellationToken);

    public ValueTask<IReadOnlyList<QueueClaim>> ClaimDueAsync(DateTimeOffset now, int maxMessages, TimeSpan lease, CancellationToken cancellationToken) => inner.ClaimDueAsync(now, maxMessages, lease, cancellationToken);

    public ValueTask<Stream> OpenContentAsync(string messageId, CancellationToken cancellationToken) => inner.OpenContentAsync(messageId, cancellationToken);

    public ValueTask MarkInFlightAsync(QueueClaim claim, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken) => inner.MarkInFlightAsync(claim, recipientIndexes, cancellationToken);

    public ValueTask RenewLeaseAsync(QueueClaim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken) => inner.RenewLeaseAsync(claim, leaseUntil, cancellationToken);

    public ValueTask CompleteAsync(QueueClaim claim, IReadOnlyList<QueueRecipientUpdate> updates, CancellationToken cancellationToken) => inner.CompleteAsync(claim, updates, cancellationToken);

    public ValueTask<QueuedMessage?> GetAsync(string messageId, CancellationToken cancellationToken) => inner.GetAsync(messageId, cancellationToken);

    public IAsyncEnumerable<QueuedMessage> ListAsync(string? afterMessageId, int limit, bool pendingOnly, CancellationToken cancellationToken) => inner.ListAsync(afterMessageId, limit, pendingOnly, cancellationToken);

    public ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, int limit, CancellationToken cancellationToken) => inner.FindByInternetMessageIdAsync(internetMessageId, limit, cancellationToken);

    public ValueTask<int> ApplyAsync(string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken) => inner.ApplyAsync(messageId, operation, now, cancellationToken);

    public ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken) => inner.GetStatisticsAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
