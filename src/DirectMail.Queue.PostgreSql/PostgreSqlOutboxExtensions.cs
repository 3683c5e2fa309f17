using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Npgsql;

namespace DirectMail.Queue.PostgreSql;

/// <summary>The outbox pattern: mail enqueued inside the application's own PostgreSQL transaction.</summary>
public static class PostgreSqlOutboxExtensions
{
    /// <summary>
    /// Keeps a message for delivery inside <paramref name="transaction"/>, the application's open transaction: the
    /// message commits or rolls back with the application's own rows (an order and its confirmation mail, never one
    /// without the other). It is durable, and due, once the caller commits; nothing is queued if it rolls back. The
    /// queue's store must be a <see cref="PostgreSqlMailQueueStore"/> on the same database as the transaction.
    /// </summary>
    /// <param name="queue">The queue (the <see cref="MailQueue"/> that <c>AddPostgreSqlQueue</c> registers, or one made over a <see cref="PostgreSqlMailQueueStore"/>).</param>
    /// <param name="envelope">The sender and the recipients.</param>
    /// <param name="content">The message; written once, into the store.</param>
    /// <param name="transaction">The application's open transaction.</param>
    /// <param name="cancellationToken">Cancels the enqueue (the transaction is then the caller's to roll back).</param>
    /// <returns>The queue id, valid once the transaction commits.</returns>
    /// <exception cref="ArgumentException">The queue is not a <see cref="MailQueue"/>.</exception>
    /// <exception cref="InvalidOperationException">The queue's store is not a <see cref="PostgreSqlMailQueueStore"/>, or the transaction is finished.</exception>
    /// <exception cref="SmtpContentException">The content holds what SMTP cannot carry (a NUL octet): nothing was written.</exception>
    public static ValueTask<string> EnqueueAsync(this IMailQueue queue, SmtpEnvelope envelope, SmtpContent content, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(transaction);
        if (queue is not MailQueue mailQueue)
        {
            throw new ArgumentException($"Enqueueing inside a transaction needs DirectMail's MailQueue; this queue is a {queue.GetType().Name}.", nameof(queue));
        }

        return mailQueue.EnqueueThroughAsync(envelope, content, (store, entry, stream, token) => store is PostgreSqlMailQueueStore postgreSql
            ? postgreSql.EnqueueAsync(entry, stream, transaction, token)
            : throw new InvalidOperationException($"Enqueueing inside a PostgreSQL transaction needs the queue's store to be a PostgreSqlMailQueueStore; it is a {store.GetType().Name}."),
            cancellationToken);
    }
}
