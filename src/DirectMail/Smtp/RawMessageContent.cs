using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;

namespace DirectMail.Smtp;

/// <summary>
/// A message sent as it is (RFC 5322 headers and body): what <see cref="SmtpContent.FromBytes"/>,
/// <see cref="SmtpContent.FromFile"/> and <see cref="SmtpContent.FromStream"/> make. Every form is scanned by one
/// <see cref="ContentScanner"/>, so the same octets give the same length, body type, SMTPUTF8 need and errors.
/// </summary>
internal sealed class RawMessageContent : SmtpContent
{
    private const int ChunkSize = 64 * 1024;

    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly string? _path;
    private readonly Stream? _stream;
    private readonly long _streamStart;
    private readonly long? _length;
    private readonly SmtpBodyType _bodyType;
    private readonly bool _requiresSmtpUtf8;
    private readonly bool _tlsRequiredNo;
    private int _consumed;

    private RawMessageContent(ReadOnlyMemory<byte> bytes, string? path, Stream? stream, long? length, ContentScanner scan)
    {
        _bytes = bytes;
        _path = path;
        _stream = stream;
        _streamStart = stream is { CanSeek: true } ? stream.Position : -1;
        _length = length;
        _bodyType = scan.BodyType;
        _requiresSmtpUtf8 = scan.HeaderHasEightBit;
        _tlsRequiredNo = scan.TlsRequiredNo;
    }

    private RawMessageContent(Stream stream, SmtpBodyType bodyType, bool requiresSmtpUtf8)
    {
        _stream = stream;
        _streamStart = -1;
        _bodyType = bodyType;
        _requiresSmtpUtf8 = requiresSmtpUtf8;
    }

    /// <summary>True when the header section holds 8-bit octets (UTF-8 headers, RFC 6532): only a server offering SMTPUTF8 can take it.</summary>
    public override bool RequiresSmtpUtf8 => _requiresSmtpUtf8;

    internal override bool TlsRequiredNo => _tlsRequiredNo;

    /// <summary>See <see cref="SmtpContent.FromBytes"/>.</summary>
    internal static RawMessageContent ScanBytes(ReadOnlyMemory<byte> content)
    {
        var scan = new ContentScanner(refuseLongLines: true);
        scan.Feed(content.Span, nameof(content));
        return new RawMessageContent(content, null, null, scan.WireLength, scan);
    }

    /// <summary>See <see cref="SmtpContent.FromFile"/>.</summary>
    internal static RawMessageContent ScanFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The file '{full}' does not exist.", full);
        }

        using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        var scan = ScanStream(file, nameof(path));
        return new RawMessageContent(default, full, null, scan.WireLength, scan);
    }

    /// <summary>See <see cref="SmtpContent.FromStream"/>: a seekable stream is scanned now, a forward-only one is what <paramref name="bodyType"/> declares.</summary>
    internal static RawMessageContent ForStream(Stream stream, SmtpBodyType bodyType)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        if (!stream.CanSeek)
        {
            return new RawMessageContent(stream, bodyType, requiresSmtpUtf8: false);
        }

        var start = stream.Position;
        var scan = ScanStream(stream, nameof(stream));
        stream.Position = start;
        return new RawMessageContent(default, null, stream, scan.WireLength, scan);
    }

    /// <inheritdoc />
    public override long? GetLength(SmtpCapabilities capabilities) => _length;

    /// <inheritdoc />
    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _bodyType;

    /// <inheritdoc />
    public override ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);

        // Bytes, the common case, write without an async state machine of their own (no allocation when the write waits).
        return _path is null && _stream is null
            ? destination.WriteAsync(_bytes, cancellationToken)
            : WriteFileOrStreamAsync(destination, cancellationToken);
    }

    private async ValueTask WriteFileOrStreamAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_path is not null)
        {
            var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (file.ConfigureAwait(false))
            {
                await file.CopyToAsync(destination, ChunkSize, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var stream = _stream!;
        if (stream.CanSeek && _streamStart >= 0)
        {
            stream.Position = _streamStart;
        }
        else if (Interlocked.Exchange(ref _consumed, 1) != 0)
        {
            throw new InvalidOperationException("This message came from a forward-only stream and has already been sent once; give a seekable stream, bytes or a file to allow another attempt.");
        }

        await stream.CopyToAsync(destination, ChunkSize, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Bytes and files can be written by any number of sessions at once; a seekable stream, rewound, by one at a time.
    /// A stream that several write at once, or a forward-only one, is read once into a spool now and scanned as the
    /// bytes are: long lines and NUL refused, body type, SMTPUTF8 and length found.
    /// </summary>
    internal override async ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
    {
        if (_stream is null || (_stream.CanSeek && _streamStart >= 0 && !concurrent))
        {
            return this;
        }

        if (_stream.CanSeek && _streamStart >= 0)
        {
            _stream.Position = _streamStart;
        }
        else if (Interlocked.Exchange(ref _consumed, 1) != 0)
        {
            throw new InvalidOperationException("This message came from a forward-only stream and has already been sent once; give a seekable stream, bytes or a file to allow another attempt.");
        }

        var scan = new ContentScanner(refuseLongLines: true);
        var spool = spools.Create();
        await ContentSpool.FillAsync(_stream, spool, chunk => scan.Feed(chunk, "stream"), cancellationToken).ConfigureAwait(false);
        return new SpooledContent(spool, scan);
    }

    private static ContentScanner ScanStream(Stream stream, string paramName)
    {
        var scan = new ContentScanner(refuseLongLines: true);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, ChunkSize)) > 0)
            {
                scan.Feed(buffer.AsSpan(0, read), paramName);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return scan;
    }
}
