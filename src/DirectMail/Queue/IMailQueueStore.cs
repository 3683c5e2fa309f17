using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Queue;

/// <summary>
/// Where a mail queue keeps its messages: the seam between the queue (schedule, worker, operations) and a durable
/// store (the SQLite store in <c>DirectMail.Queue.Sqlite</c>, the PostgreSQL store in
/// <c>DirectMail.Queue.PostgreSql</c>). Every method is safe to call concurrently. Times are the caller's clock
/// (the queue's <see cref="TimeProvider"/>), so a store holds no clock of its own.
/// </summary>
/// <remarks>
/// The contract every store keeps:
/// <list type="bullet">
/// <item><see cref="EnqueueAsync"/> completes only once the entry and its content are durable (fsync or a committed
/// transaction); concurrent calls may share one commit.</item>
/// <item>A claim is exclusive while its lease lasts; a message whose lease expired can be claimed again with a higher
/// fence, and then every write through the older claim (<see cref="MarkInFlightAsync"/>, <see cref="RenewLeaseAsync"/>,
/// <see cref="CompleteAsync"/>) throws <see cref="QueueLeaseLostException"/> and changes nothing. The fence also moves on
/// when the claim completes, when an operator holds or bounces the message, and when the lease expired with recipients
/// in flight (below); a deleted message refuses every write (<see cref="QueueLeaseLostException.MessageDeleted"/>).</item>
/// <item>Recipients left <see cref="QueueRecipientState.InFlight"/> by a claim whose lease expired become
/// <see cref="QueueRecipientState.InDoubt"/> (never due again by themselves) in one atomic step with the fence moving
/// on: when the message is claimed again, and also when nothing else of it is due: <see cref="ClaimDueAsync"/> treats
/// a message whose lease expired with recipients in flight as due, turns them InDoubt and returns no claim for it when
/// none of its recipients is due, so no recipient stays InFlight for ever after its worker died.</item>
/// <item>A corrupt or unreadable entry is never returned by a claim and never stops the others: the store quarantines
/// it (<see cref="QueueRecipientState.Held"/>, with an attempt whose detail says why) and logs it.</item>
/// </list>
/// </remarks>
public interface IMailQueueStore : IAsyncDisposable
{
    /// <summary>Keeps a message durably. Completes when it would survive the process being killed.</summary>
    /// <param name="entry">The envelope and the recipients' first due times.</param>
    /// <param name="content">The message content (read to its end once, not disposed).</param>
    /// <param name="cancellationToken">Cancels before the write; after, the entry may or may not be kept.</param>
    ValueTask EnqueueAsync(QueueEntry entry, Stream content, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="maxMessages"/> messages that have a recipient due at <paramref name="now"/>
    /// (Queued or Deferred with its due time passed, not held), and whose lease is free or expired, oldest due first.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="maxMessages">At most this many claims.</param>
    /// <param name="lease">How long the claims last unless renewed.</param>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns>The claims, each with only its due recipients; empty when nothing is due.</returns>
    ValueTask<IReadOnlyList<QueueClaim>> ClaimDueAsync(DateTimeOffset now, int maxMessages, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Opens the content of a message for reading, from its start. The caller disposes the stream.</summary>
    /// <param name="messageId">The queue id.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <exception cref="KeyNotFoundException">No such message.</exception>
    ValueTask<Stream> OpenContentAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>
    /// Marks, durably, that the end of the message is about to be sent to these recipients (they become
    /// <see cref="QueueRecipientState.InFlight"/>). Called right before the final octets of the content go out, so a
    /// worker that dies after it leaves them <see cref="QueueRecipientState.InDoubt"/> instead of sending twice.
    /// </summary>
    /// <param name="claim">The claim they belong to.</param>
    /// <param name="recipientIndexes">Their indexes in the message.</param>
    /// <param name="cancellationToken">Cancels the mark.</param>
    /// <exception cref="QueueLeaseLostException">A newer claim exists.</exception>
    ValueTask MarkInFlightAsync(QueueClaim claim, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken);

    /// <summary>Extends a claim's lease.</summary>
    /// <param name="claim">The claim.</param>
    /// <param name="leaseUntil">The new end of the lease.</param>
    /// <param name="cancellationToken">Cancels the renewal.</param>
    /// <exception cref="QueueLeaseLostException">A newer claim exists.</exception>
    ValueTask RenewLeaseAsync(QueueClaim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>
    /// Records the outcome of a claim in one atomic, durable step and ends the claim: each update sets a recipient's
    /// state (and due time) and appends its attempt; recipients of the claim without an update become due again as
    /// they were.
    /// </summary>
    /// <param name="claim">The claim.</param>
    /// <param name="updates">One update per recipient that has an outcome.</param>
    /// <param name="cancellationToken">Cancels before the write.</param>
    /// <exception cref="QueueLeaseLostException">A newer claim exists: nothing was written.</exception>
    ValueTask CompleteAsync(QueueClaim claim, IReadOnlyList<QueueRecipientUpdate> updates, CancellationToken cancellationToken);

    /// <summary>One message with every recipient and its history, or null when there is no such message.</summary>
    /// <param name="messageId">The queue id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<QueuedMessage?> GetAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>Messages in queue id order (oldest first), a page at a time.</summary>
    /// <param name="afterMessageId">Start after this id; null for the start.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="pendingOnly">True for messages with a recipient not final only.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    IAsyncEnumerable<QueuedMessage> ListAsync(string? afterMessageId, int limit, bool pendingOnly, CancellationToken cancellationToken);

    /// <summary>
    /// The queue ids of the messages whose content's <c>Message-ID</c> (<see cref="QueueEntry.InternetMessageId"/>) is
    /// <paramref name="internetMessageId"/>, compared exactly (ordinal), oldest first: how a bounce that names only the
    /// original's Message-ID is correlated back (<see cref="Suppression.BounceIngester"/>). Read from an index.
    /// </summary>
    /// <param name="internetMessageId">The Message-ID without angle brackets.</param>
    /// <param name="limit">At most this many ids.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The ids; empty when none.</returns>
    ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, int limit, CancellationToken cancellationToken);

    /// <summary>Applies an operator's operation to one message, or to every message when <paramref name="messageId"/> is null.</summary>
    /// <param name="messageId">The queue id, or null for all.</param>
    /// <param name="operation">What to do.</param>
    /// <param name="now">The current time (the due time for Release and Flush, the attempt time for Bounce).</param>
    /// <param name="cancellationToken">Cancels before the write.</param>
    /// <returns>The number of recipients changed (for Delete, of the message removed).</returns>
    ValueTask<int> ApplyAsync(string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Counts for metrics and listings.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken);
}
