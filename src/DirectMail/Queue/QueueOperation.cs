namespace DirectMail.Queue;

/// <summary>What an operator does to queued messages (<c>directmail queue hold|release|delete|bounce|flush</c>).</summary>
public enum QueueOperation
{
    /// <summary>Queued and Deferred recipients become Held: not tried until released.</summary>
    Hold,

    /// <summary>Held and InDoubt recipients become Queued, due now (an InDoubt recipient may then get a second copy).</summary>
    Release,

    /// <summary>The message and its history are removed.</summary>
    Delete,

    /// <summary>Recipients not final become Failed, with a reply saying an operator bounced them.</summary>
    Bounce,

    /// <summary>Queued and Deferred recipients become due now.</summary>
    Flush,
}
