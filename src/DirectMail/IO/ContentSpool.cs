using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace DirectMail.IO;

/// <summary>Looks at a chunk of content as it is read (and may refuse it by throwing).</summary>
internal delegate void ChunkScanner(ReadOnlySpan<byte> chunk);

/// <summary>
/// Keeps the octets of a message (or of a part of one) that cannot be read again: in pooled memory up to a limit,
/// in a private temporary file above it. Written once, then read by any number of readers at once (memory is read in
/// place, the file with positional reads), so several sessions can send the same spooled octets concurrently.
/// </summary>
/// <remarks>
/// The file is created 0600 (owner only) and, on Unix, unlinked as soon as it is open: no other user can read the
/// message, and nothing is left behind on any path, not even when the process dies. On Windows it is opened with
/// <see cref="FileOptions.DeleteOnClose"/>. Disposing the spool closes the file and returns the memory.
/// </remarks>
internal class ContentSpool : IAsyncDisposable, IDisposable
{
    /// <summary>What the mailer keeps in memory before it spools a message to a file.</summary>
    public const int DefaultMemoryLimit = 1024 * 1024;

    private const int InitialBuffer = 16 * 1024;
    private const int CopyChunk = 64 * 1024;

    private readonly int _memoryLimit;
    private readonly string _prefix;
    private byte[] _buffer;
    private int _buffered;
    private FileStream? _file;
    private long _fileLength;
    private bool _flushed = true;
    private int _disposed;

    public ContentSpool(int memoryLimit = DefaultMemoryLimit, string prefix = "directmail-spool-")
    {
        _memoryLimit = memoryLimit;
        _prefix = prefix;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBuffer, memoryLimit));
    }

    /// <summary>
    /// Tests only: told of every spool file as it is created (the handle, and the path it had before it was
    /// unlinked). An async-local, so that a test sees the files of its own send only.
    /// </summary>
    internal static AsyncLocal<Action<SafeFileHandle, string>?> FileCreated { get; } = new();

    /// <summary>
    /// Reads <paramref name="source"/> to its end in pooled chunks, each shown to <paramref name="scan"/> and then
    /// written to <paramref name="spool"/>, then completes the spool.
    /// </summary>
    public static async ValueTask FillAsync(Stream source, ContentSpool spool, ChunkScanner scan, CancellationToken cancellationToken)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(CopyChunk);
        try
        {
            int read;
            while ((read = await source.ReadAsync(chunk.AsMemory(0, CopyChunk), cancellationToken).ConfigureAwait(false)) > 0)
            {
                scan(chunk.AsSpan(0, read));
                await spool.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        await spool.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True once the octets went to a temporary file.</summary>
    public bool IsFile => _file is not null;

    /// <summary>The octets written so far.</summary>
    public long Length => _file is null ? _buffered : _fileLength;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_file is null && TryBuffer(data))
        {
            return;
        }

        OpenFile().Write(data);
        _fileLength += data.Length;
        _flushed = false;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_file is null && TryBuffer(data.Span))
        {
            return ValueTask.CompletedTask;
        }

        var file = OpenFile();
        _fileLength += data.Length;
        _flushed = false;
        return file.WriteAsync(data, cancellationToken);
    }

    /// <summary>Ends the writing: what the file stream buffers goes to the file, so that readers see every octet.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (_file is not null && !_flushed)
        {
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _flushed = true;
        }
    }

    /// <summary>Writes every octet to <paramref name="destination"/>. Safe from several readers at once after <see cref="CompleteAsync"/>.</summary>
    public async ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_file is null)
        {
            await destination.WriteAsync(_buffer.AsMemory(0, _buffered), cancellationToken).ConfigureAwait(false);
            return;
        }

        await CompleteAsync(cancellationToken).ConfigureAwait(false);
        var handle = _file.SafeFileHandle;
        var chunk = ArrayPool<byte>.Shared.Rent(CopyChunk);
        try
        {
            long offset = 0;
            while (offset < _fileLength)
            {
                var read = await RandomAccess.ReadAsync(handle, chunk.AsMemory(0, (int)Math.Min(CopyChunk, _fileLength - offset)), offset, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("The spool file ended early.");
                }

                offset += read;
                await destination.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>The octets without a copy when they are all in memory (no file was needed); false for a file.</summary>
    public bool TryGetBuffered(out ReadOnlyMemory<byte> octets)
    {
        octets = _file is null ? _buffer.AsMemory(0, _buffered) : default;
        return _file is null;
    }

    /// <summary>A read-only stream over the octets, with its own position: any number can be open at once after <see cref="CompleteAsync"/>.</summary>
    public Stream OpenRead() => _file is null
        ? new MemoryStream(_buffer, 0, _buffered, writable: false)
        : new Reader(_file.SafeFileHandle, _fileLength);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }

        ReturnBuffer();
        GC.SuppressFinalize(this);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _file?.Dispose();
        _file = null;
        ReturnBuffer();
        GC.SuppressFinalize(this);
    }

    private bool TryBuffer(ReadOnlySpan<byte> data)
    {
        var needed = _buffered + data.Length;
        if (needed > _memoryLimit)
        {
            return false;
        }

        if (needed > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_memoryLimit, Math.Max(needed, _buffer.Length * 2)));
            _buffer.AsSpan(0, _buffered).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        data.CopyTo(_buffer.AsSpan(_buffered));
        _buffered = needed;
        return true;
    }

    private FileStream OpenFile()
    {
        if (_file is not null)
        {
            return _file;
        }

        var path = Path.Combine(Path.GetTempPath(), _prefix + Guid.NewGuid().ToString("N") + ".eml");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = CopyChunk,
            Options = FileOptions.Asynchronous | (OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None),
        };
        if (!OperatingSystem.IsWindows())
        {
            // Owner read and write only, from creation: the message is never readable by another local user.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(path, options);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                // The open handle keeps the octets; without a name nothing can open it, and nothing can be left behind.
                File.Delete(path);
            }

            FileCreated.Value?.Invoke(file.SafeFileHandle, path);
            file.Write(_buffer.AsSpan(0, _buffered));
        }
        catch
        {
            file.Dispose();
            if (!OperatingSystem.IsWindows())
            {
                File.Delete(path);
            }

            throw;
        }

        _file = file;
        _fileLength = _buffered;
        _flushed = false;
        _buffered = 0;

        // The memory is not needed any more: the file stream buffers what is written next.
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        return file;
    }

    private void ReturnBuffer()
    {
        var buffer = _buffer;
        _buffer = [];
        _buffered = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A forward-only reader of the spool file with its own offset (positional reads: no shared position).</summary>
    private sealed class Reader(SafeFileHandle handle, long length) : ForwardReadStream(length)
    {
        private long _position;

        protected override long ReadSoFar => _position;

        public override int Read(Span<byte> buffer)
        {
            var want = (int)Math.Min(buffer.Length, Length - _position);
            if (want <= 0)
            {
                return 0;
            }

            var read = RandomAccess.Read(handle, buffer[..want], _position);
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var want = (int)Math.Min(buffer.Length, Length - _position);
            if (want <= 0)
            {
                return 0;
            }

            var read = await RandomAccess.ReadAsync(handle, buffer[..want], _position, cancellationToken).ConfigureAwait(false);
            _position += read;
            return read;
        }

    }
}

/// <summary>
/// The spools of one send: made while the content is readied for its deliveries, disposed (memory returned, files
/// closed) when the send ends, whatever way it ends.
/// </summary>
internal sealed class ContentSpools : IAsyncDisposable
{
    private readonly System.Collections.Generic.List<ContentSpool> _spools = new();
    private bool _disposed;

    public ContentSpools(int memoryLimit = ContentSpool.DefaultMemoryLimit) => MemoryLimit = memoryLimit;

    /// <summary>What each spool keeps in memory before it goes to a file.</summary>
    public int MemoryLimit { get; }

    /// <summary>A new spool, disposed with the others.</summary>
    public ContentSpool Create()
    {
        var spool = new ContentSpool(MemoryLimit);
        lock (_spools)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _spools.Add(spool);
        }

        return spool;
    }

    public async ValueTask DisposeAsync()
    {
        ContentSpool[] spools;
        lock (_spools)
        {
            _disposed = true;
            spools = _spools.ToArray();
            _spools.Clear();
        }

        foreach (var spool in spools)
        {
            await spool.DisposeAsync().ConfigureAwait(false);
        }
    }
}
