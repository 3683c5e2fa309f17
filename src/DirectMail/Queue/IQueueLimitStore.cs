using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Queue;

/// <summary>
/// An optional capability of an <see cref="IMailQueueStore"/>: per-destination limits shared by every instance that
/// uses the store, so that three workers on one PostgreSQL send a provider no more than the limit set once, not three
/// times it. A store that does not implement it leaves the limits to each worker (per process). Keys are the worker's
/// limit keys (a destination's MX host set, or a provider rule's name); times are the caller's clock.
/// </summary>
public interface IQueueLimitStore
{
    /// <summary>
    /// Takes one message token from the shared bucket <paramref name="key"/>, which refills at
    /// <paramref name="messagesPerSecond"/> up to <paramref name="burst"/> tokens. The token is always taken: when the
    /// bucket is empty its balance goes negative (a queue of waiters), and the result is how long the caller waits
    /// before sending.
    /// </summary>
    /// <param name="key">The limit key.</param>
    /// <param name="messagesPerSecond">The refill rate (positive).</param>
    /// <param name="burst">The bucket's capacity (at least 1).</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the take.</param>
    /// <returns><see cref="TimeSpan.Zero"/> when the message may go now; otherwise the wait.</returns>
    ValueTask<TimeSpan> TakeMessageTokenAsync(string key, double messagesPerSecond, double burst, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Tries to take one of <paramref name="maxConnections"/> connection slots of <paramref name="key"/> for
    /// <paramref name="holder"/> until <paramref name="leaseUntil"/>. A slot whose lease has passed is free again, so a
    /// killed instance's slots come back on their own. A holder that already holds a slot of the key gets true and its
    /// lease extended to <paramref name="leaseUntil"/>, whatever the count: the worker renews a slot held by a long send
    /// so, with its claim's lease.
    /// </summary>
    /// <param name="key">The limit key.</param>
    /// <param name="maxConnections">How many slots the key has (at least 1).</param>
    /// <param name="holder">Who holds the slot: unique per delivery (an instance id and a sequence number).</param>
    /// <param name="now">The current time.</param>
    /// <param name="leaseUntil">When the slot frees itself unless released first.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>True when the slot was taken.</returns>
    ValueTask<bool> TryAcquireConnectionSlotAsync(string key, int maxConnections, string holder, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Gives back a slot taken by <see cref="TryAcquireConnectionSlotAsync"/> (nothing when it is not held).</summary>
    /// <param name="key">The limit key.</param>
    /// <param name="holder">The holder that took it.</param>
    /// <param name="cancellationToken">Cancels the release (the slot then frees itself at the end of its lease).</param>
    ValueTask ReleaseConnectionSlotAsync(string key, string holder, CancellationToken cancellationToken);
}
