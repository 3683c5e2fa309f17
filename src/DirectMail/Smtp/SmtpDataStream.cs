using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Smtp;

/// <summary>
/// The write-only stream an <see cref="SmtpContent"/> writes the message into. Every write goes through the
/// session's encoder (CRLF, dot transparency, line limits) into its write buffer, which is sent when full: the
/// message is never held whole. One instance per session, reused for every transaction.
/// </summary>
internal sealed class SmtpDataStream : IO.WriteOnlyStream
{
    private readonly SmtpSession _session;

    public SmtpDataStream(SmtpSession session) => _session = session;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _session.WriteContentBlockAsync(buffer, cancellationToken);

    // Synchronous writers (some MIME libraries) block on the same path; asynchronous writes are preferred. The
    // session sends its buffer when it is full and at the end of the message, so Flush has nothing to do.
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(copy);
            _session.WriteContentBlockAsync(copy.AsMemory(0, buffer.Length), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }
}
