using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.IO;

/// <summary>A write-only stream that keeps nothing and counts the octets written to it.</summary>
internal sealed class CountingStream : WriteOnlyStream
{
    private long _length;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _length += buffer.Length;
        return ValueTask.CompletedTask;
    }
}
