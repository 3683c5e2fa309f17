using System;
using System.Threading;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>Extends a claim's lease, and with it the due time of its InFlight recipients.</summary>
internal sealed class RenewLeaseWrite : FencedWrite
{
    private readonly DateTimeOffset _leaseUntil;

    public RenewLeaseWrite(QueueClaim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
        : base(claim, cancellationToken)
        => _leaseUntil = leaseUntil;

    protected override void Write(SqliteWriteContext context)
    {
        var command = context.Command(
            "UPDATE messages SET lease_until = $until WHERE id = $id; " +
            $"UPDATE recipients SET next_attempt_at = $until WHERE message_id = $id AND state = {SqliteSchema.InFlight}");
        command.Parameters.AddWithValue("$id", Claim.MessageId);
        command.Parameters.AddWithValue("$until", _leaseUntil.UtcTicks);
        command.ExecuteNonQuery();
    }
}
