using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// An operator's operation on one message or all of them. Hold and Bounce also end any claim a worker holds on the
/// messages they change (the fence moves on), so the worker's outcome cannot undo the operator's decision: what the
/// worker had marked InFlight becomes InDoubt, never sent twice.
/// </summary>
internal sealed class OperationWrite : SqliteWrite<int>
{
    /// <summary>The reply recorded for an operator's bounce.</summary>
    public const string BounceReply = "550 5.0.0 Bounced by the queue operator";

    private readonly string? _messageId;
    private readonly QueueOperation _operation;
    private readonly DateTimeOffset _now;

    public OperationWrite(string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken)
        : base(cancellationToken)
    {
        _messageId = messageId;
        _operation = operation;
        _now = now;
    }

    protected override ValueTask<int> ExecuteCoreAsync(SqliteWriteContext context)
    {
        var recipients = _messageId is null ? string.Empty : " AND message_id = $id";
        var changed = _operation switch
        {
            QueueOperation.Hold => Run(context,
                $"UPDATE messages SET fence = fence + 1, lease_until = NULL WHERE lease_until IS NOT NULL AND id IN " +
                $"(SELECT message_id FROM recipients WHERE state IN ({SqliteSchema.Queued}, {SqliteSchema.Deferred}){recipients}); " +
                $"UPDATE recipients SET state = {SqliteSchema.Held}, next_attempt_at = NULL WHERE state IN ({SqliteSchema.Queued}, {SqliteSchema.Deferred}){recipients}"),
            QueueOperation.Release => Run(context,
                $"UPDATE recipients SET state = {SqliteSchema.Queued}, next_attempt_at = $now WHERE state IN ({SqliteSchema.Held}, {SqliteSchema.InDoubt}){recipients}"),
            QueueOperation.Flush => Run(context,
                $"UPDATE recipients SET next_attempt_at = $now WHERE state IN ({SqliteSchema.Queued}, {SqliteSchema.Deferred}) AND next_attempt_at > $now{recipients}"),
            QueueOperation.Bounce => Bounce(context, recipients),
            QueueOperation.Delete => Delete(context),
            _ => throw new ArgumentOutOfRangeException(nameof(QueueOperation), _operation, "Not a queue operation."),
        };
        return new ValueTask<int>(changed);
    }

    private int Bounce(SqliteWriteContext context, string recipients)
    {
        var changed = Run(context,
            "INSERT INTO attempts (message_id, idx, started_at, outcome, reply) " +
            $"SELECT message_id, idx, $now, {(int)QueueRecipientState.Failed}, $reply FROM recipients WHERE state NOT IN {SqliteSchema.Final}{recipients}; " +
            $"UPDATE messages SET fence = fence + 1, lease_until = NULL WHERE lease_until IS NOT NULL AND id IN " +
            $"(SELECT message_id FROM recipients WHERE state NOT IN {SqliteSchema.Final}{recipients}); " +
            $"UPDATE recipients SET state = {(int)QueueRecipientState.Failed}, next_attempt_at = NULL, attempts = attempts + 1 WHERE state NOT IN {SqliteSchema.Final}{recipients}");
        context.RefreshDone(_messageId);
        return changed;
    }

    private int Delete(SqliteWriteContext context)
    {
        if (_messageId is null)
        {
            var count = Scalar(context, "SELECT count(*) FROM recipients");
            Run(context, "DELETE FROM attempts; DELETE FROM recipients; DELETE FROM content; DELETE FROM messages");
            return count;
        }

        var removed = Scalar(context, "SELECT count(*) FROM recipients WHERE message_id = $id");
        Run(context,
            "DELETE FROM attempts WHERE message_id = $id; DELETE FROM recipients WHERE message_id = $id; " +
            "DELETE FROM content WHERE message_id = $id; DELETE FROM messages WHERE id = $id");
        return removed;
    }

    /// <returns>The rows the last statement changed (SQLite's changes()).</returns>
    private int Run(SqliteWriteContext context, string sql)
    {
        var command = context.Command(sql + "; SELECT changes()");
        Bind(command);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private int Scalar(SqliteWriteContext context, string sql)
    {
        var command = context.Command(sql);
        Bind(command);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Bind(Microsoft.Data.Sqlite.SqliteCommand command)
    {
        if (command.CommandText.Contains("$id", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("$id", _messageId);
        }

        if (command.CommandText.Contains("$now", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("$now", _now.UtcTicks);
        }

        if (command.CommandText.Contains("$reply", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("$reply", BounceReply);
        }
    }
}
