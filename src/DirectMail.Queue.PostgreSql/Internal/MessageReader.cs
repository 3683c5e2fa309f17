using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Npgsql;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>Reads the operator's view of messages (<see cref="QueuedMessage"/>): one message, or a page, in one snapshot.</summary>
internal static class MessageReader
{
    public static async Task<List<QueuedMessage>> ReadAsync(NpgsqlDataSource dataSource, QueueSql sql, string? messageId, string? afterMessageId, int limit, bool pendingOnly, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Repeatable read: the messages, their recipients and their attempts come from one snapshot.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var rows = new List<(string Id, string Sender, long Size, DateTimeOffset EnqueuedAt, DateTimeOffset ExpiresAt, short? Ret, string? EnvelopeId, bool RequireTls, string? InternetMessageId, bool TlsRequiredNo)>();
        await using (var command = Sql.Command(connection, transaction, messageId is null ? (pendingOnly ? sql.ReadPendingPage : sql.ReadPage) : sql.ReadMessage))
        {
            if (messageId is null)
            {
                command.Parameters.AddValue(afterMessageId ?? string.Empty);
                command.Parameters.AddValue(limit);
            }
            else
            {
                command.Parameters.AddValue(messageId);
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetInt16(5), Text(reader, 6), reader.GetBoolean(7), Text(reader, 8), reader.GetBoolean(9)));
            }
        }

        var messages = new List<QueuedMessage>(rows.Count);
        if (rows.Count == 0)
        {
            return messages;
        }

        var ids = new string[rows.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = rows[i].Id;
        }

        var recipients = new Dictionary<string, List<(int Index, string Address, QueueRecipientState State, DateTimeOffset? Next, short Notify, string? Original)>>(StringComparer.Ordinal);
        var attempts = new Dictionary<(string, int), List<QueueAttempt>>();
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            Sql.BatchCommand(batch, sql.ReadRecipients).Parameters.AddValue(ids);
            Sql.BatchCommand(batch, sql.ReadAttempts).Parameters.AddValue(ids);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetString(0);
                if (!recipients.TryGetValue(id, out var list))
                {
                    recipients.Add(id, list = []);
                }

                list.Add((reader.GetInt32(1), reader.GetString(2), (QueueRecipientState)reader.GetInt16(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt16(5), Text(reader, 6)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = (reader.GetString(0), reader.GetInt32(1));
                if (!attempts.TryGetValue(key, out var list))
                {
                    attempts.Add(key, list = []);
                }

                list.Add(new QueueAttempt(reader.GetFieldValue<DateTimeOffset>(2), (QueueRecipientState)reader.GetInt16(3),
                    Text(reader, 4), Text(reader, 5), Text(reader, 6), Text(reader, 7)));
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            var views = new List<QueuedRecipient>();
            if (recipients.TryGetValue(row.Id, out var list))
            {
                foreach (var (index, address, state, next, notify, original) in list)
                {
                    views.Add(new QueuedRecipient(index, address, state, next,
                        attempts.TryGetValue((row.Id, index), out var history) ? history : [])
                    {
                        Notify = notify is >= 0 and <= 15 ? (DsnNotify)notify : DsnNotify.Default,
                        OriginalRecipient = original,
                    });
                }
            }

            messages.Add(new QueuedMessage(row.Id, row.Sender, row.Size, row.EnqueuedAt, row.ExpiresAt, views)
            {
                DsnReturn = row.Ret is (short)DsnReturn.Full or (short)DsnReturn.Headers ? (DsnReturn)row.Ret.Value : null,
                DsnEnvelopeId = row.EnvelopeId,
                RequireTls = row.RequireTls,
                InternetMessageId = row.InternetMessageId,
                IgnoreRecipientTlsPolicy = row.TlsRequiredNo,
            });
        }

        return messages;
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
