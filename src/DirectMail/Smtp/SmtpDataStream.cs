using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Smtp;

/// <summary>
/// The write-only stream an <see cref="SmtpContent"/> writes the message into. Every write goes through the
/// session's encoder (CRLF, dot transparency, line limits) into its write buffer, which is sent when full: the
/// message is never held whole. One instance per session, reused for every transaction.
/// </summary>
internal sealed class SmtpDataStream : Stream
{
    private readonly SmtpSession _session;

    public SmtpDataStream(SmtpSession session) => _session = session;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _session.WriteContentBlockAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => _session.WriteContentBlockAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous writers (some MIME libraries) block on the same path; asynchronous writes are preferred.
    public override void Write(byte[] buffer, int offset, int count)
        => Write(buffer.AsSpan(offset, count));

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

    public override void WriteByte(byte value) => Write([value]);

    // The session sends the buffer when it is full and at the end of the message; a flush mid-message would only
    // add packets.
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
