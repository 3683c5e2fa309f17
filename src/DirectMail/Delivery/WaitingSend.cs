using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>
/// A send waiting in <see cref="SmtpConnectionPool"/> for a connection to its host while all of them are busy. A busy
/// session that reaches the end of its last message takes it (<see cref="TryTake"/>), writes its envelope behind that
/// end, and the pool hands the session over (<see cref="TryHand"/>) once its caller gives it back; or a connection slot
/// frees first and the waiter withdraws (<see cref="TryWithdraw"/>) and goes its own way. Exactly one of the two wins.
/// </summary>
internal sealed class WaitingSend(SmtpEnvelope envelope, SmtpContent content) : IWaitingTransaction
{
    private const int Waiting = 0;
    private const int Taken = 1;
    private const int Withdrawn = 2;
    private const int Handed = 3;
    private const int Abandoned = 4;

    private readonly TaskCompletionSource<SmtpSession?> _handed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public SmtpEnvelope Envelope { get; } = envelope;

    public SmtpContent Content { get; } = content;

    /// <summary>Completes with the session handed over, or null when the session that took this send could not be used after all.</summary>
    public Task<SmtpSession?> Session => _handed.Task;

    /// <summary>A session takes the send; false when it was withdrawn.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

    /// <summary>The waiter goes its own way (a slot freed, or it was canceled); false when a session took it first.</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Withdrawn, Waiting) == Waiting;

    /// <summary>The pool hands the taking session over (or null: it closed); false when the waiter was canceled meanwhile.</summary>
    public bool TryHand(SmtpSession? session)
    {
        if (Interlocked.CompareExchange(ref _state, Handed, Taken) != Taken)
        {
            return false;
        }

        _handed.SetResult(session);
        return true;
    }

    /// <summary>The waiter was canceled after a session took it; false when the session was handed over first.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Taken) == Taken;
}
