using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// The suite's one forward-only stream double: content as a pipe, a socket or an HTTP request body hands it over. It
/// cannot seek, has no length or position (asking throws, as it does on a <c>NetworkStream</c>), returns at most
/// <c>maxReadSize</c> bytes per read (so a reader that assumes a full buffer fails), and can fail or stall part way.
/// It counts what was asked of it, so a test can say the content was read once, or not at all.
/// </summary>
/// <param name="data">The content.</param>
/// <param name="maxReadSize">The most one read returns.</param>
/// <param name="failAfter">Throw <see cref="IOException"/> with <see cref="FailureMessage"/> once this many bytes were read (-1: never).</param>
/// <param name="stallAfter">Once this many bytes were read, call <paramref name="onStall"/> and wait until the read is canceled (-1: never).</param>
/// <param name="onStall">Called when the stream stalls.</param>
internal sealed class ForwardOnlyStream(byte[] data, int maxReadSize = 10_000, int failAfter = -1, int stallAfter = -1, Action? onStall = null) : Stream
{
    /// <summary>The message of the <see cref="IOException"/> a failing stream throws.</summary>
    public const string FailureMessage = "The source of the message failed part way.";

    private int _position;
    private int _reads;
    private int _endReads;
    private bool _disposed;

    /// <summary>Reads that returned data.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Reads that found the end (returned 0): 1 after the content was read to its end once.</summary>
    public int EndReads => Volatile.Read(ref _endReads);

    /// <summary>How many bytes were read so far.</summary>
    public int BytesRead => Volatile.Read(ref _position);

    /// <summary>The stream was disposed.</summary>
    public bool IsDisposed => _disposed;

    public override bool CanRead => !_disposed;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (failAfter >= 0 && _position >= failAfter)
        {
            throw new IOException(FailureMessage);
        }

        var n = Math.Min(Math.Min(buffer.Length, maxReadSize), data.Length - _position);
        if (n == 0)
        {
            Interlocked.Increment(ref _endReads);
            return 0;
        }

        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        Interlocked.Increment(ref _reads);
        return n;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (stallAfter >= 0 && _position >= stallAfter)
        {
            onStall?.Invoke();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        await Task.Yield();
        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }
}
