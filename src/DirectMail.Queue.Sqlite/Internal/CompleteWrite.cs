using System;
using System.Collections.Generic;
using System.Threading;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// Records a claim's outcome and ends the claim. The fence moves on, so the same claim cannot write again. A recipient
/// the worker marked InFlight but gave no outcome becomes InDoubt (the end of the message may have gone out); the
/// claim's other recipients without an update keep their state and due time.
/// </summary>
internal sealed class CompleteWrite : FencedWrite
{
    private readonly IReadOnlyList<QueueRecipientUpdate> _updates;

    public CompleteWrite(QueueClaim claim, IReadOnlyList<QueueRecipientUpdate> updates, CancellationToken cancellationToken)
        : base(claim, cancellationToken)
        => _updates = updates;

    // InFlight recipients without an outcome become InDoubt, and the claim's fence is spent.
    private static readonly string EndSql = SqliteSchema.InFlightToInDoubt + "; UPDATE messages SET fence = fence + 1, lease_until = NULL WHERE id = $id";

    protected override void Write(SqliteWriteContext context)
    {
        var messageId = Claim.MessageId;
        for (var i = 0; i < _updates.Count; i++)
        {
            var update = _updates[i];
            var command = context.Command(
                "UPDATE recipients SET state = $state, next_attempt_at = $next, attempts = attempts + $attempts " +
                "WHERE message_id = $id AND idx = $idx");
            command.Parameters.AddWithValue("$id", messageId);
            command.Parameters.AddWithValue("$idx", update.Index);
            command.Parameters.AddWithValue("$state", (int)update.State);
            command.Parameters.AddWithValue("$next", update.State == QueueRecipientState.Deferred ? update.NextAttemptAt!.Value.UtcTicks : DBNull.Value);
            command.Parameters.AddWithValue("$attempts", update.Attempt is null ? 0 : 1);
            command.ExecuteNonQuery();
            if (update.Attempt is { } attempt)
            {
                context.InsertAttempt(messageId, update.Index, attempt);
            }
        }

        var end = context.Command(EndSql);
        end.Parameters.AddWithValue("$id", messageId);
        end.ExecuteNonQuery();
        context.RefreshDone(messageId);
    }
}
