using System.Collections.Generic;
using System.Threading;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// Marks claimed recipients InFlight. Their due time becomes the end of the lease: if the worker dies, the due scan
/// finds them when the lease expires and the next claim turns them InDoubt.
/// </summary>
internal sealed class MarkInFlightWrite : FencedWrite
{
    private static readonly string Sql =
        $"UPDATE recipients SET state = {SqliteSchema.InFlight}, next_attempt_at = (SELECT lease_until FROM messages WHERE id = $id) " +
        $"WHERE message_id = $id AND idx = $idx AND state IN ({SqliteSchema.Queued}, {SqliteSchema.Deferred})";

    private readonly IReadOnlyList<int> _indexes;

    public MarkInFlightWrite(QueueClaim claim, IReadOnlyList<int> indexes, CancellationToken cancellationToken)
        : base(claim, cancellationToken)
        => _indexes = indexes;

    protected override void Write(SqliteWriteContext context)
    {
        for (var i = 0; i < _indexes.Count; i++)
        {
            var command = context.Command(Sql);
            command.Parameters.AddWithValue("$id", Claim.MessageId);
            command.Parameters.AddWithValue("$idx", _indexes[i]);
            command.ExecuteNonQuery();
        }
    }
}
