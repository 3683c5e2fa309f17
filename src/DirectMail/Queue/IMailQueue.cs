using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// A durable outbound queue: messages kept in an <see cref="IMailQueueStore"/> until every recipient has a final
/// outcome, delivered by a <see cref="MailQueueWorker"/> on a retry schedule. Thread-safe; one per application.
/// </summary>
public interface IMailQueue
{
    /// <summary>
    /// Keeps a message for delivery to every recipient of <paramref name="envelope"/>. Returns once the message is
    /// durable in the store: a process killed right after the call loses nothing.
    /// </summary>
    /// <param name="envelope">The sender and the recipients.</param>
    /// <param name="content">The message; written once, into the store.</param>
    /// <param name="cancellationToken">Cancels the enqueue; canceled during the store's write, the message may or may not be kept.</param>
    /// <returns>The queue id: unique, sortable by the time of enqueue, made of letters and digits only.</returns>
    /// <exception cref="SmtpContentException">The content holds what SMTP cannot carry (a NUL octet): nothing was stored.</exception>
    ValueTask<string> EnqueueAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default);

    /// <summary>One message with every recipient and its attempts, or null when there is none with this id.</summary>
    /// <param name="queueId">The queue id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<QueuedMessage?> GetAsync(string queueId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The queue ids of the messages whose content's <c>Message-ID</c> is <paramref name="internetMessageId"/> (without
    /// angle brackets, compared exactly), oldest first, at most 10: a bounce that names only the original's Message-ID
    /// is correlated by it.
    /// </summary>
    /// <param name="internetMessageId">The Message-ID without angle brackets.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, CancellationToken cancellationToken = default);

    /// <summary>Messages in queue id order (oldest first).</summary>
    /// <param name="pendingOnly">True for messages with a recipient not final only.</param>
    /// <param name="afterQueueId">Start after this id (the last of the page before); null for the start.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    IAsyncEnumerable<QueuedMessage> ListAsync(bool pendingOnly = true, string? afterQueueId = null, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>Queued and Deferred recipients become Held: not tried until released.</summary>
    /// <param name="queueId">The queue id, or null for every message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of recipients changed.</returns>
    ValueTask<int> HoldAsync(string? queueId, CancellationToken cancellationToken = default);

    /// <summary>Held and InDoubt recipients become due now (an InDoubt recipient may then get a second copy).</summary>
    /// <param name="queueId">The queue id, or null for every message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of recipients changed.</returns>
    ValueTask<int> ReleaseAsync(string? queueId, CancellationToken cancellationToken = default);

    /// <summary>Removes a message and its history.</summary>
    /// <param name="queueId">The queue id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of recipients the message had; 0 when there was no such message.</returns>
    ValueTask<int> DeleteAsync(string queueId, CancellationToken cancellationToken = default);

    /// <summary>Recipients not final become Failed, with a reply saying an operator bounced them.</summary>
    /// <param name="queueId">The queue id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of recipients changed.</returns>
    ValueTask<int> BounceAsync(string queueId, CancellationToken cancellationToken = default);

    /// <summary>Queued and Deferred recipients become due now, and the worker of this process wakes.</summary>
    /// <param name="queueId">The queue id, or null for every message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The number of recipients changed.</returns>
    ValueTask<int> FlushAsync(string? queueId = null, CancellationToken cancellationToken = default);

    /// <summary>What the store holds: recipients by state, the oldest pending message, the next due time.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The outcomes the worker of this process records from now on, one event per recipient (delivered, deferred,
    /// failed, expired, in doubt), until <paramref name="cancellationToken"/> is canceled. Each reader gets every
    /// event; one that falls <see cref="MailQueueOptions.EventCapacity"/> behind loses the oldest.
    /// </summary>
    /// <param name="cancellationToken">Ends the reading.</param>
    IAsyncEnumerable<MailQueueEvent> ReadEventsAsync(CancellationToken cancellationToken = default);
}
