using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.IO;

/// <summary>
/// The shell of a read-only, forward-only stream of a known length (a spool file read with its own offset, a queued
/// message's content read part by part from a store): everything but the span and memory reads, which the subclass
/// writes. The array overloads forward to them, so a caller on either API gets the same path.
/// </summary>
internal abstract class ForwardReadStream : Stream
{
    private readonly long _length;

    /// <param name="length">The content's size in octets.</param>
    protected ForwardReadStream(long length) => _length = length;

    /// <inheritdoc />
    public sealed override bool CanRead => true;

    /// <inheritdoc />
    public sealed override bool CanSeek => false;

    /// <inheritdoc />
    public sealed override bool CanWrite => false;

    /// <summary>The content's size in octets.</summary>
    public sealed override long Length => _length;

    /// <summary>The octets read so far; it cannot be set.</summary>
    public sealed override long Position
    {
        get => ReadSoFar;
        set => throw new NotSupportedException();
    }

    /// <summary>The octets read so far.</summary>
    protected abstract long ReadSoFar { get; }

    /// <inheritdoc />
    public sealed override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public sealed override void Flush()
    {
    }

    /// <inheritdoc />
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
