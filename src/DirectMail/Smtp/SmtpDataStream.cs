using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Smtp;

/// <summary>
/// The write-only stream an <see cref="SmtpContent"/> writes the message into. Every write goes to the message
/// body being sent (<see cref="DotStuffedDataBody"/> or <see cref="BdatChunkedBody"/>), which encodes it into the
/// connection's write buffer and sends that when full: the message is never held whole. One instance per session,
/// reused for every transaction.
/// </summary>
internal sealed class SmtpDataStream : IO.WriteOnlyStream
{
    /// <summary>The body of the message being sent; set when its content starts.</summary>
    public SmtpMessageBody? Body { get; set; }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Body is { } body ? body.WriteAsync(buffer) : ValueTask.FromException(NotSending());

    // Synchronous writers (some MIME libraries) block on the same path; asynchronous writes are preferred. The
    // body sends the buffer when it is full and at the end of the message, so Flush has nothing to do.
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(copy);
            CurrentBody.WriteAsync(copy.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private SmtpMessageBody CurrentBody => Body ?? throw NotSending();

    private static InvalidOperationException NotSending() => new("Message content can only be written while the session sends it.");
}
