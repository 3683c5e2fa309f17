using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// One write waiting for the writer loop. It runs inside the batch's transaction within its own savepoint, so a write
/// that throws is undone alone; its outcome is handed to the caller only once the batch has committed.
/// </summary>
internal abstract class SqliteWrite
{
    protected SqliteWrite(CancellationToken cancellationToken) => CancellationToken = cancellationToken;

    /// <summary>The caller's token: a write cancelled before its turn is skipped.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Why the write failed inside its batch (rolled back to its savepoint), told once the batch is durable.</summary>
    public Exception? Failure { get; set; }

    /// <summary>The write was skipped, its caller having cancelled before its turn.</summary>
    public bool Skipped { get; set; }

    /// <summary>The batch is committed and synced: hands over the outcome the write had in it.</summary>
    public void Settle()
    {
        if (Skipped)
        {
            Cancel();
        }
        else if (Failure is { } failure)
        {
            Fail(failure);
        }
        else
        {
            Succeed();
        }
    }

    /// <summary>Does the write (reads and statements on the writer connection, inside the savepoint).</summary>
    public abstract ValueTask ExecuteAsync(SqliteWriteContext context);

    /// <summary>The batch committed: hands the result over.</summary>
    public abstract void Succeed();

    /// <summary>The write, or the batch's commit, failed.</summary>
    public abstract void Fail(Exception exception);

    /// <summary>The caller cancelled before the write ran.</summary>
    public abstract void Cancel();
}

/// <summary>A write with a result.</summary>
internal abstract class SqliteWrite<TResult> : SqliteWrite
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TResult? _result;

    protected SqliteWrite(CancellationToken cancellationToken)
        : base(cancellationToken)
    {
    }

    /// <summary>Completes once the batch holding the write has committed (or the write failed).</summary>
    public Task<TResult> Completion => _completion.Task;

    public sealed override async ValueTask ExecuteAsync(SqliteWriteContext context)
        => _result = await ExecuteCoreAsync(context).ConfigureAwait(false);

    public override void Succeed() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception exception) => _completion.TrySetException(exception);

    public sealed override void Cancel() => _completion.TrySetCanceled(CancellationToken);

    protected abstract ValueTask<TResult> ExecuteCoreAsync(SqliteWriteContext context);
}
