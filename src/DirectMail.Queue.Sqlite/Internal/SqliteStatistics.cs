using System.Collections.Generic;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The store's counts, none of which scans: the counts kept by triggers (recipient_counts, totals), the oldest pending
/// message from the first entry of messages_pending and the next due time from the first of recipients_due.
/// </summary>
internal static class SqliteStatistics
{
    public static QueueStatistics Read(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "SELECT state, n FROM recipient_counts WHERE n > 0; " +
            "SELECT (SELECT n FROM totals WHERE name = 'pending'), (SELECT min(enqueued_at) FROM messages WHERE done = 0); " +
            // INDEXED BY: left to itself the planner takes recipients_state for the state test and sorts every Queued
            // and Deferred row (1.6 s with a million deferred); the due index gives the first due row at once.
            $"SELECT next_attempt_at FROM recipients INDEXED BY recipients_due WHERE next_attempt_at IS NOT NULL AND state IN ({SqliteSchema.Queued}, {SqliteSchema.Deferred}) ORDER BY next_attempt_at LIMIT 1; " +
            "SELECT n FROM totals WHERE name = 'attempts'";
        using var reader = command.ExecuteReader();
        var byState = new Dictionary<QueueRecipientState, long>();
        while (reader.Read())
        {
            var state = reader.GetInt64(0);
            // A value that is no state is a corrupt row the next claim quarantines; it is not a state to count.
            if (state is >= 0 and <= SqliteSchema.MaxState)
            {
                byState[(QueueRecipientState)state] = reader.GetInt64(1);
            }
        }

        reader.NextResult();
        reader.Read();
        var messages = reader.GetInt64(0);
        var oldest = reader.IsDBNull(1) ? (System.DateTimeOffset?)null : SqliteSchema.ToTime(reader.GetInt64(1));
        reader.NextResult();
        var nextDue = reader.Read() ? SqliteSchema.ToTime(reader.GetInt64(0)) : (System.DateTimeOffset?)null;
        reader.NextResult();
        reader.Read();
        var attempts = reader.GetInt64(0);
        return new QueueStatistics(byState, messages, oldest, nextDue, attempts);
    }
}
