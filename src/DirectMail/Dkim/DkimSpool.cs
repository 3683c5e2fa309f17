using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Dkim;

/// <summary>
/// Keeps the octets of a content that cannot be written twice (one whose length is unknown, such as a forward-only
/// stream), so that pass 2 writes them after the signature: in a pooled buffer up to 64 KiB, in a temporary file
/// (deleted on close) above that.
/// </summary>
internal sealed class DkimSpool : IAsyncDisposable
{
    public const int MemoryLimit = 64 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(MemoryLimit);
    private int _buffered;
    private FileStream? _file;

    public bool IsFile => _file is not null;

    public long Length => _file?.Length ?? _buffered;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_file is null && _buffered + data.Length <= _buffer.Length)
        {
            data.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += data.Length;
            return;
        }

        OpenFile().Write(data);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_file is null && _buffered + data.Length <= _buffer.Length)
        {
            data.Span.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += data.Length;
            return ValueTask.CompletedTask;
        }

        return OpenFile().WriteAsync(data, cancellationToken);
    }

    public async ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_file is null)
        {
            await destination.WriteAsync(_buffer.AsMemory(0, _buffered), cancellationToken).ConfigureAwait(false);
            return;
        }

        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _file.Position = 0;
        while (true)
        {
            var read = await _file.ReadAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            await destination.WriteAsync(_buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }

        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private FileStream OpenFile()
    {
        if (_file is null)
        {
            var path = Path.Combine(Path.GetTempPath(), "directmail-dkim-" + Guid.NewGuid().ToString("N") + ".eml");
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            _file.Write(_buffer.AsSpan(0, _buffered));
            _buffered = 0;
        }

        return _file;
    }
}
