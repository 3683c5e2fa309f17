using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;
using DirectMail.Smtp;

namespace DirectMail.Mime;

/// <summary>A raw message: see <see cref="RawMessage"/>.</summary>
internal sealed class RawMessageContent : SmtpContent
{
    private const int MaxLineOctets = 998;
    private const int ChunkSize = 64 * 1024;

    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly string? _path;
    private readonly Stream? _stream;
    private readonly long _streamStart;
    private readonly long? _length;
    private readonly SmtpBodyType _bodyType;
    private readonly bool _requiresSmtpUtf8;
    private int _consumed;

    private RawMessageContent(ReadOnlyMemory<byte> bytes, string? path, Stream? stream, long? length, RawScanner scan)
    {
        _bytes = bytes;
        _path = path;
        _stream = stream;
        _streamStart = stream is { CanSeek: true } ? stream.Position : -1;
        _length = length;
        _bodyType = scan.HasEightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit;
        _requiresSmtpUtf8 = scan.HeaderHasEightBit;
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

    /// <summary>See <see cref="RawMessage.FromBytes"/>.</summary>
    internal static RawMessageContent ScanBytes(ReadOnlyMemory<byte> message)
    {
        var scan = new RawScanner();
        scan.Feed(message.Span, nameof(message));
        return new RawMessageContent(message, null, null, scan.WireLength, scan);
    }

    /// <summary>See <see cref="RawMessage.FromFile"/>.</summary>
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

    /// <summary>See <see cref="RawMessage.FromStream"/>: a seekable stream is scanned now, a forward-only one is what <paramref name="bodyType"/> declares.</summary>
    internal static RawMessageContent ForStream(Stream message, SmtpBodyType bodyType = SmtpBodyType.SevenBit)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(message));
        }

        if (!message.CanSeek)
        {
            return new RawMessageContent(message, bodyType, requiresSmtpUtf8: false);
        }

        var start = message.Position;
        var scan = ScanStream(message, nameof(message));
        message.Position = start;
        return new RawMessageContent(default, null, message, scan.WireLength, scan);
    }

    /// <inheritdoc />
    public override long? GetLength(SmtpCapabilities capabilities) => _length;

    /// <inheritdoc />
    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _bodyType;

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_path is not null)
        {
            var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (file.ConfigureAwait(false))
            {
                await file.CopyToAsync(destination, ChunkSize, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (_stream is null)
        {
            await destination.WriteAsync(_bytes, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (_stream.CanSeek && _streamStart >= 0)
        {
            _stream.Position = _streamStart;
        }
        else if (Interlocked.Exchange(ref _consumed, 1) != 0)
        {
            throw new InvalidOperationException("This message came from a forward-only stream and has already been sent once; give a seekable stream, bytes or a file to allow another attempt.");
        }

        await _stream.CopyToAsync(destination, ChunkSize, cancellationToken).ConfigureAwait(false);
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

        var scan = new RawScanner();
        var spool = spools.Create();
        await ContentSpool.FillAsync(_stream, spool, chunk => scan.Feed(chunk, "message"), cancellationToken).ConfigureAwait(false);
        return new SpooledContent(spool, scan.HasEightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit, scan.HeaderHasEightBit, scan.WireLength);
    }

    private static RawScanner ScanStream(Stream stream, string paramName)
    {
        var scan = new RawScanner();
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

    /// <summary>Finds line lengths, 8-bit octets and the end of the header section, across chunks.</summary>
    private struct RawScanner
    {
        private long _lineLength;
        private long _lineNumber;
        private bool _afterCr;
        private bool _inBody;
        private long _length;
        private long _bareLineEnds;
        private byte _last;

        public bool HasEightBit { get; private set; }

        public bool HeaderHasEightBit { get; private set; }

        /// <summary>
        /// The length as sent, which SIZE declares (RFC 1870 section 4): every line end a CRLF, so a bare CR or LF
        /// counts two octets, and a last line without its end gets one.
        /// </summary>
        public readonly long WireLength
        {
            get
            {
                var length = _length + _bareLineEnds + (_afterCr ? 1 : 0);
                return _length > 0 && _last is not ((byte)'\r' or (byte)'\n') ? length + 2 : length;
            }
        }

        public void Feed(ReadOnlySpan<byte> data, string paramName)
        {
            if (data.IsEmpty)
            {
                return;
            }

            var nul = data.IndexOf((byte)0);
            if (nul >= 0)
            {
                Feed(data[..nul], paramName);
                throw SmtpContentException.Nul(_length, _lineNumber + 1, paramName);
            }

            _length += data.Length;
            _last = data[^1];
            if (!HasEightBit && data.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
            {
                HasEightBit = true;
            }

            while (!data.IsEmpty)
            {
                if (_afterCr)
                {
                    _afterCr = false;
                    if (data[0] == '\n')
                    {
                        data = data[1..];
                        continue;
                    }

                    _bareLineEnds++; // a CR without its LF
                }

                var end = data.IndexOfAny((byte)'\r', (byte)'\n');
                var line = end < 0 ? data : data[..end];
                if (!_inBody && !HeaderHasEightBit && line.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
                {
                    HeaderHasEightBit = true;
                }

                _lineLength += line.Length;
                if (_lineLength > MaxLineOctets)
                {
                    throw new ArgumentException($"Line {_lineNumber + 1} of the message is longer than {MaxLineOctets} octets, the most SMTP allows (RFC 5321 section 4.5.3.1.6); encode the part it is in (quoted-printable or base64) or fold the header.", paramName);
                }

                if (end < 0)
                {
                    return;
                }

                if (_lineLength == 0)
                {
                    _inBody = true; // the empty line that ends the header section
                }

                _afterCr = data[end] == '\r';
                if (!_afterCr)
                {
                    _bareLineEnds++; // an LF without its CR
                }

                _lineLength = 0;
                _lineNumber++;
                data = data[(end + 1)..];
            }
        }
    }
}
