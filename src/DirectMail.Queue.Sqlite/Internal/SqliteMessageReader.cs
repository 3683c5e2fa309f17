using System.Collections.Generic;
using DirectMail.Smtp;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>Reads the operator's view of messages (<see cref="QueuedMessage"/>) on a read connection.</summary>
internal static class SqliteMessageReader
{
    private const string MessageColumns = "id, sender, size, enqueued_at, expires_at, dsn_ret, dsn_envid, require_tls, internet_message_id, tls_required_no";

    public static QueuedMessage? Read(SqliteConnection connection, SqliteTransaction? transaction, string messageId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {MessageColumns} FROM messages WHERE id = $id";
        command.Parameters.AddWithValue("$id", messageId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadMessage(connection, transaction, reader) : null;
    }

    /// <summary>One page of messages in id order, each with its recipients and their history.</summary>
    public static List<QueuedMessage> ReadPage(SqliteConnection connection, SqliteTransaction transaction, string? afterMessageId, int limit, bool pendingOnly)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {MessageColumns} FROM messages WHERE id > $after" + (pendingOnly ? " AND done = 0" : string.Empty) + " ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$after", afterMessageId ?? string.Empty);
        command.Parameters.AddWithValue("$limit", limit);
        var page = new List<QueuedMessage>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            page.Add(ReadMessage(connection, transaction, reader));
        }

        return page;
    }

    private static QueuedMessage ReadMessage(SqliteConnection connection, SqliteTransaction? transaction, SqliteDataReader message)
    {
        var messageId = message.GetString(0);
        var attempts = ReadAttempts(connection, transaction, messageId);
        var recipients = new List<QueuedRecipient>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT idx, address, state, next_attempt_at, dsn_notify, dsn_orcpt FROM recipients WHERE message_id = $id ORDER BY idx";
            command.Parameters.AddWithValue("$id", messageId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var index = reader.GetInt32(0);
                var state = (QueueRecipientState)reader.GetInt32(2);
                // InFlight rows carry their lease's end as a due time: that is the store's business, not a due time.
                var next = state is QueueRecipientState.Queued or QueueRecipientState.Deferred && !reader.IsDBNull(3)
                    ? SqliteSchema.ToTime(reader.GetInt64(3))
                    : (System.DateTimeOffset?)null;
                recipients.Add(new QueuedRecipient(index, reader.GetString(1), state, next,
                    attempts.TryGetValue(index, out var history) ? history : [])
                {
                    Notify = SqliteSchema.ToNotify(reader.GetInt64(4)) ?? DsnNotify.Default,
                    OriginalRecipient = reader.IsDBNull(5) ? null : reader.GetString(5),
                });
            }
        }

        return new QueuedMessage(messageId, message.GetString(1), message.GetInt64(2),
            SqliteSchema.ToTime(message.GetInt64(3)), SqliteSchema.ToTime(message.GetInt64(4)), recipients)
        {
            DsnReturn = message.IsDBNull(5) ? null : SqliteSchema.ToReturn(message.GetInt64(5)),
            DsnEnvelopeId = message.IsDBNull(6) ? null : message.GetString(6),
            RequireTls = !message.IsDBNull(7) && message.GetInt64(7) != 0,
            InternetMessageId = message.IsDBNull(8) ? null : message.GetString(8),
            IgnoreRecipientTlsPolicy = !message.IsDBNull(9) && message.GetInt64(9) == 1,
        };
    }

    private static Dictionary<int, List<QueueAttempt>> ReadAttempts(SqliteConnection connection, SqliteTransaction? transaction, string messageId)
    {
        var attempts = new Dictionary<int, List<QueueAttempt>>();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "SELECT idx, started_at, outcome, reply, mx_host, server_address, detail FROM attempts WHERE message_id = $id ORDER BY idx, id";
        command.Parameters.AddWithValue("$id", messageId);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var index = reader.GetInt32(0);
            if (!attempts.TryGetValue(index, out var list))
            {
                attempts.Add(index, list = []);
            }

            list.Add(new QueueAttempt(SqliteSchema.ToTime(reader.GetInt64(1)), (QueueRecipientState)reader.GetInt32(2),
                NullableString(reader, 3), NullableString(reader, 4), NullableString(reader, 5), NullableString(reader, 6)));
        }

        return attempts;
    }

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>The queue ids of the messages with this content Message-ID, oldest first (the partial index messages_internet_message_id).</summary>
    public static IReadOnlyList<string> FindByInternetMessageId(SqliteConnection connection, string internetMessageId, int limit)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM messages INDEXED BY messages_internet_message_id WHERE internet_message_id = $mid ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$mid", internetMessageId);
        command.Parameters.AddWithValue("$limit", limit);
        var ids = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
