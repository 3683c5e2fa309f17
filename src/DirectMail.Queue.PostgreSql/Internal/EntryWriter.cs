using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// Writes one message on a connection, inside the caller's transaction (the store's own, or the application's for the
/// outbox) or committing it itself: its row, its recipients, the attempt made before it was queued, and its content in
/// parts of at most <see cref="PartSize"/> octets. A message of one part (every message up to 256 KiB) is one batch:
/// one round trip, which on its own is also the commit.
/// </summary>
internal static class EntryWriter
{
    /// <summary>
    /// The largest content part: one bytea row. Parts keep a large message out of memory on both sides (each is written
    /// and read whole, one at a time) and far from bytea's 1 GB limit, while a typical message is a single row.
    /// </summary>
    public const int PartSize = 256 * 1024;

    // transaction: the caller's (committed by the caller), or null: the message is then committed here, in one round
    // trip when it is one part, in a transaction of its own when it is more.
    public static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, QueueSql sql, QueueEntry entry, Stream content, CancellationToken cancellationToken)
    {
        // A seekable stream says how much is left: a 10 KB message borrows a 10 KB buffer, not a part's.
        var capacity = content.CanSeek ? (int)Math.Clamp(content.Length - content.Position + 1, 1, PartSize) : PartSize;
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        NpgsqlTransaction? ownTransaction = null;
        try
        {
            var (length, end) = await FillAsync(content, buffer, capacity, cancellationToken).ConfigureAwait(false);
            if (!end && transaction is null)
            {
                ownTransaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                transaction = ownTransaction;
            }

            // Every recipient suppressed at enqueue: kept settled (done), and its content is not kept (nothing will send it).
            var settled = QueueStoreArguments.IsSettled(entry);

            // Without a transaction the batch is one implicit transaction: atomic, and committed when it returns.
            await using (var batch = new NpgsqlBatch(connection, transaction))
            {
                AddMessage(batch, sql, entry, length, settled);
                if (!settled)
                {
                    AddPart(batch, sql, entry.MessageId, 0, buffer.AsMemory(0, length));
                }

                try
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation && exception.TableName == "messages")
                {
                    throw new InvalidOperationException($"A message with queue id {entry.MessageId} is already in the store.", exception);
                }
            }

            if (end)
            {
                return;
            }

            if (buffer.Length < PartSize)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = ArrayPool<byte>.Shared.Rent(PartSize);
            }

            long size = length;
            for (var part = 1; ; part++)
            {
                (length, end) = await FillAsync(content, buffer, PartSize, cancellationToken).ConfigureAwait(false);
                if (length > 0 && !settled)
                {
                    await using var insert = new NpgsqlBatch(connection, transaction);
                    AddPart(insert, sql, entry.MessageId, part, buffer.AsMemory(0, length));
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                size += length;

                if (end)
                {
                    break;
                }
            }

            await using var update = Sql.Command(connection, transaction, sql.UpdateSize);
            update.Parameters.AddValue(entry.MessageId);
            update.Parameters.AddValue(size);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (ownTransaction is not null)
            {
                await ownTransaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (ownTransaction is not null)
            {
                await ownTransaction.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static void AddMessage(NpgsqlBatch batch, QueueSql sql, QueueEntry entry, int firstPartLength, bool settled)
    {
        var recipients = entry.Recipients;
        var addresses = new string[recipients.Count];
        var states = new short[recipients.Count];
        var due = new DateTimeOffset?[recipients.Count];
        var attempts = new int[recipients.Count];
        var notify = new short[recipients.Count];
        var originals = new string?[recipients.Count];
        var firstAttempts = 0;
        var nextDue = DateTimeOffset.MaxValue;
        for (var i = 0; i < recipients.Count; i++)
        {
            var recipient = recipients[i];
            addresses[i] = recipient.Address;
            states[i] = (short)recipient.State;
            attempts[i] = recipient.FirstAttempt is null ? 0 : 1;
            notify[i] = (short)recipient.Notify;
            originals[i] = recipient.OriginalRecipient;
            firstAttempts += attempts[i];
            if (recipient.State == QueueRecipientState.Failed)
            {
                // Suppressed at enqueue: final, never due.
                continue;
            }

            due[i] = recipient.NextAttemptAt.ToUniversalTime();
            if (recipient.NextAttemptAt < nextDue)
            {
                nextDue = recipient.NextAttemptAt;
            }
        }

        var message = Sql.BatchCommand(batch, sql.InsertMessage).Parameters;
        message.AddValue(entry.MessageId);
        message.AddValue(entry.Sender);
        message.AddValue((short)entry.BodyType);
        message.AddValue(entry.RequiresSmtpUtf8);
        message.AddTime(entry.EnqueuedAt);
        message.AddTime(entry.ExpiresAt);
        message.AddValue((long)firstPartLength);
        message.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = settled ? null : nextDue.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        message.Add(new NpgsqlParameter<short?> { TypedValue = entry.DsnReturn is { } ret ? (short)ret : null, NpgsqlDbType = NpgsqlDbType.Smallint });
        message.Add(new NpgsqlParameter<string?> { TypedValue = entry.DsnEnvelopeId, NpgsqlDbType = NpgsqlDbType.Text });
        message.AddValue(entry.RequireTls);
        message.Add(new NpgsqlParameter<string?> { TypedValue = entry.InternetMessageId, NpgsqlDbType = NpgsqlDbType.Text });
        message.AddValue(settled);
        message.AddValue(entry.IgnoreRecipientTlsPolicy);

        var rows = Sql.BatchCommand(batch, sql.InsertRecipients).Parameters;
        rows.AddValue(entry.MessageId);
        rows.AddValue(addresses);
        rows.AddValue(states);
        rows.Add(new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = due, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        rows.AddValue(attempts);
        rows.AddValue(notify);
        rows.Add(new NpgsqlParameter<string?[]> { TypedValue = originals, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        if (firstAttempts > 0)
        {
            AddAttempts(batch, sql, entry, firstAttempts);
        }
    }

    private static void AddAttempts(NpgsqlBatch batch, QueueSql sql, QueueEntry entry, int count)
    {
        var attempts = new AttemptColumns(count);
        for (var i = 0; i < entry.Recipients.Count; i++)
        {
            if (entry.Recipients[i].FirstAttempt is { } attempt)
            {
                attempts.Add(i, attempt);
            }
        }

        attempts.AddTo(Sql.BatchCommand(batch, sql.InsertAttempts).Parameters, entry.MessageId);
    }

    private static void AddPart(NpgsqlBatch batch, QueueSql sql, string messageId, int part, ReadOnlyMemory<byte> data)
    {
        var parameters = Sql.BatchCommand(batch, sql.InsertPart).Parameters;
        parameters.AddValue(messageId);
        parameters.AddValue(part);
        parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Bytea });
    }

    /// <returns>The octets read, and whether the stream ended before <paramref name="count"/>.</returns>
    private static async ValueTask<(int Length, bool End)> FillAsync(Stream content, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < count)
        {
            var read = await content.ReadAsync(buffer.AsMemory(length, count - length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return (length, true);
            }

            length += read;
        }

        return (length, false);
    }
}
