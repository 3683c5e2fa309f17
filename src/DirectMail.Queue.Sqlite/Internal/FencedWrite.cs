using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// A write through a claim: refused with <see cref="QueueLeaseLostException"/> (inside its savepoint, so nothing is
/// written) unless the claim's fence is still the message's.
/// </summary>
internal abstract class FencedWrite : SqliteWrite<bool>
{
    protected FencedWrite(QueueClaim claim, CancellationToken cancellationToken)
        : base(cancellationToken)
        => Claim = claim;

    protected QueueClaim Claim { get; }

    protected sealed override ValueTask<bool> ExecuteCoreAsync(SqliteWriteContext context)
    {
        context.CheckFence(Claim);
        Write(context);
        return new ValueTask<bool>(true);
    }

    protected abstract void Write(SqliteWriteContext context);
}
