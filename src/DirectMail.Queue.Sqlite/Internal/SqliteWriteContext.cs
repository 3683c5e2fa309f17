using System;
using System.Collections.Generic;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// What a write sees while the writer loop runs it: the writer connection inside the batch's transaction, prepared
/// commands kept across batches, the buffer content parts are copied through, and the statements several writes share.
/// </summary>
internal sealed class SqliteWriteContext : IDisposable
{
    /// <summary>The largest content part: one row, written and read with incremental blob I/O.</summary>
    public const int PartSize = 256 * 1024;

    // Built once: the SQL text is also the key of the prepared-command cache.
    private static readonly string RefreshAllDoneSql =
        $"UPDATE messages SET done = NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = messages.id AND r.state NOT IN {SqliteSchema.Final}) WHERE done = 0; " +
        "DELETE FROM content WHERE (SELECT done FROM messages m WHERE m.id = content.message_id) = 1";

    private static readonly string RefreshDoneSql =
        $"UPDATE messages SET done = NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = $id AND r.state NOT IN {SqliteSchema.Final}) WHERE id = $id; " +
        "DELETE FROM content WHERE message_id = $id AND (SELECT done FROM messages WHERE id = $id) = 1";

    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    public SqliteWriteContext(SqliteConnection connection, ILogger logger)
    {
        Connection = connection;
        Logger = logger;
    }

    public SqliteConnection Connection { get; }

    public ILogger Logger { get; }

    /// <summary>The writer's own part buffer, for content the producer did not read whole.</summary>
    public byte[] PartBuffer { get; } = new byte[PartSize];

    public void Begin(SqliteTransaction transaction) => _transaction = transaction;

    public void End() => _transaction = null;

    /// <summary>A prepared command for <paramref name="sql"/> in the current transaction, its parameters cleared.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }

        command.Transaction = _transaction;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>Refuses a write through a claim that is no longer the newest (or whose message is gone).</summary>
    /// <exception cref="QueueLeaseLostException">The fence moved on.</exception>
    public void CheckFence(QueueClaim claim)
    {
        var command = Command("SELECT fence FROM messages WHERE id = $id");
        command.Parameters.AddWithValue("$id", claim.MessageId);
        var fence = command.ExecuteScalar();
        if (fence is not long current || current != claim.Fence)
        {
            throw new QueueLeaseLostException(claim.MessageId, claim.Fence, fence as long?);
        }
    }

    /// <summary>Appends one attempt to a recipient's history.</summary>
    public void InsertAttempt(string messageId, int index, QueueAttempt attempt)
    {
        var command = Command(
            "INSERT INTO attempts (message_id, idx, started_at, outcome, reply, mx_host, server_address, detail) " +
            "VALUES ($id, $idx, $at, $outcome, $reply, $mx, $address, $detail)");
        command.Parameters.AddWithValue("$id", messageId);
        command.Parameters.AddWithValue("$idx", index);
        command.Parameters.AddWithValue("$at", attempt.StartedAt.UtcTicks);
        command.Parameters.AddWithValue("$outcome", (int)attempt.Outcome);
        command.Parameters.AddWithValue("$reply", (object?)attempt.Reply ?? DBNull.Value);
        command.Parameters.AddWithValue("$mx", (object?)attempt.MxHost ?? DBNull.Value);
        command.Parameters.AddWithValue("$address", (object?)attempt.ServerAddress ?? DBNull.Value);
        command.Parameters.AddWithValue("$detail", (object?)attempt.Detail ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Marks a message done once every recipient is final, and then drops its content: nothing will send it again, and
    /// the history (messages, recipients, attempts) stays until the message is deleted.
    /// </summary>
    public void RefreshDone(string? messageId)
    {
        SqliteCommand command;
        if (messageId is null)
        {
            command = Command(RefreshAllDoneSql);
        }
        else
        {
            command = Command(RefreshDoneSql);
            command.Parameters.AddWithValue("$id", messageId);
        }

        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Takes a message that cannot be read out of delivery: its recipients not final become Held, each with an attempt
    /// naming the problem, and nothing of it stays due. Also works for recipient rows whose message row is missing.
    /// The caller logs it once the batch has committed.
    /// </summary>
    public void Quarantine(string messageId, DateTimeOffset now, string reason)
    {
        var command = Command(
            "INSERT INTO attempts (message_id, idx, started_at, outcome, detail) " +
            $"SELECT message_id, idx, $now, {SqliteSchema.Held}, $detail FROM recipients WHERE message_id = $id AND state NOT IN {SqliteSchema.Final}; " +
            $"UPDATE recipients SET state = {SqliteSchema.Held}, attempts = attempts + 1 WHERE message_id = $id AND state NOT IN {SqliteSchema.Final}; " +
            "UPDATE recipients SET next_attempt_at = NULL WHERE message_id = $id; " +
            "UPDATE messages SET fence = fence + 1, lease_until = NULL WHERE id = $id");
        command.Parameters.AddWithValue("$id", messageId);
        command.Parameters.AddWithValue("$now", now.UtcTicks);
        command.Parameters.AddWithValue("$detail", "Quarantined by the SQLite queue store: " + reason);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
