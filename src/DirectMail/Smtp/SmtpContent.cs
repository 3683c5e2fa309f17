using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;

namespace DirectMail.Smtp;

/// <summary>What kind of octets a message's content holds (RFC 6152).</summary>
public enum SmtpBodyType
{
    /// <summary>Only octets 1 to 127, in lines of at most 998 octets: any server takes it.</summary>
    SevenBit = 0,

    /// <summary>Octets above 127 too: needs a server offering 8BITMIME, and is declared with <c>BODY=8BITMIME</c>.</summary>
    EightBit = 1,
}

/// <summary>
/// The content of a message (RFC 5322 headers and body), written into the connection as it is produced, never
/// buffered whole. A session turns what is written into the wire form: CRLF line ends, dot transparency for DATA.
/// </summary>
/// <remarks>
/// A transaction that falls back to another host writes the content again, and a send to several domains writes it
/// for each of them at once. <see cref="Delivery.DirectMailer"/> reads content made from a stream once, before any
/// connection, into a private spool (memory, or a temporary file only the owner can read, gone when the send ends)
/// that every delivery writes from; content of another kind sent to several domains is written once per server
/// capability set into such a spool. Used with an <see cref="SmtpSession"/> directly, content made from a
/// forward-only stream can be written once only.
/// </remarks>
public abstract class SmtpContent
{
    /// <summary>
    /// Readies the content for the deliveries of one send, before any of them starts, and returns what they write:
    /// this content when it can be written as they need (by several sessions at once when <paramref name="concurrent"/>,
    /// otherwise again after a fallback), or a content over spools of <paramref name="spools"/>, which live as long as
    /// the send. What cannot be sent (a NUL octet) is refused here, before anything is sent.
    /// </summary>
    /// <remarks>
    /// The default, for content this library does not know: written once per server capability set into a spool when
    /// several sessions write it at once (it may read a shared stream or change shared state while it writes).
    /// </remarks>
    /// <exception cref="SmtpContentException">The content holds what SMTP cannot carry.</exception>
    internal virtual ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
        => new(concurrent ? new FormSpooledContent(this, spools) : this);

    /// <summary>
    /// The length in octets, when known without producing the content: it is declared with <c>SIZE=</c> and checked
    /// against the server's limit before anything is sent. Null when unknown.
    /// </summary>
    /// <param name="capabilities">What the server announced; content whose form depends on it (8-bit or encoded) can say so.</param>
    public virtual long? GetLength(SmtpCapabilities capabilities) => null;

    /// <summary>Whether the content written for this server holds 8-bit octets.</summary>
    /// <param name="capabilities">What the server announced.</param>
    public abstract SmtpBodyType GetBodyType(SmtpCapabilities capabilities);

    /// <summary>True when headers hold UTF-8 (RFC 6532) and the message can only go to a server offering SMTPUTF8.</summary>
    public virtual bool RequiresSmtpUtf8 => false;

    /// <summary>Writes the content to <paramref name="destination"/>. Line ends may be CRLF, LF or CR.</summary>
    /// <param name="destination">The session's data stream.</param>
    /// <param name="capabilities">What the server announced.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public abstract ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken);

    /// <summary>Content from bytes in memory. The body type and the exact length as sent are found by looking at the bytes.</summary>
    /// <param name="content">The message, headers and body (not copied: do not change them until they are sent).</param>
    /// <exception cref="SmtpContentException">The bytes hold a NUL octet, which SMTP cannot carry.</exception>
    public static SmtpContent FromBytes(ReadOnlyMemory<byte> content) => new BytesContent(content);

    /// <summary>Content read from a stream as it is sent. The length declared with SIZE is the stream's length (when it can seek), before bare line ends are made CRLF.</summary>
    /// <param name="stream">
    /// The message, headers and body. A seekable stream is rewound to where it stood for every attempt; a forward-only
    /// one can be sent once by a session. <see cref="Delivery.DirectMailer"/> reads it before it connects (a NUL octet
    /// is refused then with <see cref="SmtpContentException"/>), and spools it when it must be written more than once.
    /// </param>
    /// <param name="bodyType">
    /// What the stream holds. Content declared <see cref="SmtpBodyType.SevenBit"/> that turns out to hold an 8-bit
    /// octet ends the transaction before the message is complete, so the server discards it.
    /// </param>
    /// <remarks>The stream stays open: it belongs to the caller.</remarks>
    public static SmtpContent FromStream(Stream stream, SmtpBodyType bodyType = SmtpBodyType.SevenBit)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        return new StreamContent(stream, bodyType);
    }

    private sealed class BytesContent : SmtpContent
    {
        private readonly ReadOnlyMemory<byte> _content;
        private readonly SmtpBodyType _bodyType;

        private readonly long _wireLength;

        public BytesContent(ReadOnlyMemory<byte> content)
        {
            _content = content;
            var span = content.Span;
            var nul = span.IndexOf((byte)0);
            if (nul >= 0)
            {
                throw SmtpContentException.Nul(nul, span[..nul].Count((byte)'\n') + 1, nameof(content));
            }

            _bodyType = span.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0 ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit;

            // SIZE counts the octets as sent, every line end a CRLF (RFC 1870 section 4): bare CRs and LFs will each
            // become two octets, and a last line without its end gets one.
            var pairs = span.Count("\r\n"u8);
            var bare = span.Count((byte)'\r') - pairs + span.Count((byte)'\n') - pairs;
            var unterminated = span.Length > 0 && span[^1] is not ((byte)'\n' or (byte)'\r') ? 2 : 0;
            _wireLength = span.Length + bare + unterminated;
        }

        public override long? GetLength(SmtpCapabilities capabilities) => _wireLength;

        public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _bodyType;

        public override ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
            => destination.WriteAsync(_content, cancellationToken);

        internal override ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken) => new(this);
    }

    private sealed class StreamContent : SmtpContent
    {
        private readonly Stream _stream;
        private readonly SmtpBodyType _bodyType;
        private readonly long _start;
        private bool _consumed;

        public StreamContent(Stream stream, SmtpBodyType bodyType)
        {
            _stream = stream;
            _bodyType = bodyType;
            _start = stream.CanSeek ? stream.Position : -1;
        }

        public override long? GetLength(SmtpCapabilities capabilities) => _stream.CanSeek ? _stream.Length - _start : null;

        public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _bodyType;

        public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
        {
            if (_stream.CanSeek)
            {
                _stream.Position = _start;
            }
            else if (_consumed)
            {
                throw new InvalidOperationException("This content came from a forward-only stream and has already been sent once; give a seekable stream to allow another attempt.");
            }

            _consumed = true;
            await _stream.CopyToAsync(destination, 16 * 1024, cancellationToken).ConfigureAwait(false);
        }

        internal override async ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
        {
            var scan = new ContentScan();
            if (_stream.CanSeek && !concurrent)
            {
                // Rewound for every attempt, one at a time: read once now only to refuse a NUL before anything is sent.
                _stream.Position = _start;
                await ContentSpool.FillAsync(_stream, null, chunk => scan.Feed(chunk, "content"), cancellationToken).ConfigureAwait(false);
                _stream.Position = _start;
                return this;
            }

            if (_stream.CanSeek)
            {
                _stream.Position = _start;
            }
            else if (_consumed)
            {
                throw new InvalidOperationException("This content came from a forward-only stream and has already been sent once; give a seekable stream to allow another attempt.");
            }

            _consumed = true;
            var spool = spools.Create();
            await ContentSpool.FillAsync(_stream, spool, chunk => scan.Feed(chunk, "content"), cancellationToken).ConfigureAwait(false);
            return new SpooledContent(spool, _bodyType, requiresSmtpUtf8: false, scan.WireLength);
        }
    }
}

/// <summary>
/// Content held in a <see cref="ContentSpool"/>: the octets of a stream, read once. Any number of sessions may write
/// it at once; it lives as long as the spool (one send).
/// </summary>
internal sealed class SpooledContent : SmtpContent
{
    private readonly ContentSpool _spool;
    private readonly SmtpBodyType _bodyType;
    private readonly bool _requiresSmtpUtf8;
    private readonly long _wireLength;

    public SpooledContent(ContentSpool spool, SmtpBodyType bodyType, bool requiresSmtpUtf8, long wireLength)
    {
        _spool = spool;
        _bodyType = bodyType;
        _requiresSmtpUtf8 = requiresSmtpUtf8;
        _wireLength = wireLength;
    }

    public override bool RequiresSmtpUtf8 => _requiresSmtpUtf8;

    public override long? GetLength(SmtpCapabilities capabilities) => _wireLength;

    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _bodyType;

    public override ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
        => _spool.CopyToAsync(destination, cancellationToken);

    internal override ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken) => new(this);
}

/// <summary>
/// A content that cannot be written by several sessions at once (it may read a shared stream, or change the object
/// it writes, as MimeKit's Prepare does), sent to several servers at once: it is written once per form into a spool,
/// one write at a time, and every session writes from the spool of its server's form. The form is what the
/// capabilities that change a message's octets select: 8BITMIME, SMTPUTF8 and BINARYMIME.
/// </summary>
internal sealed class FormSpooledContent : SmtpContent
{
    private const SmtpExtensions FormExtensions = SmtpExtensions.EightBitMime | SmtpExtensions.SmtpUtf8 | SmtpExtensions.BinaryMime;

    private readonly SmtpContent _inner;
    private readonly ContentSpools _spools;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<SmtpExtensions, (ContentSpool Spool, long WireLength)> _forms = new();

    public FormSpooledContent(SmtpContent inner, ContentSpools spools)
    {
        _inner = inner;
        _spools = spools;
    }

    public override bool RequiresSmtpUtf8 => _inner.RequiresSmtpUtf8;

    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => _inner.GetBodyType(capabilities);

    /// <summary>The length of this server's form once it is spooled; until then what the content itself says.</summary>
    public override long? GetLength(SmtpCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        lock (_forms)
        {
            if (_forms.TryGetValue(capabilities.Extensions & FormExtensions, out var form))
            {
                return form.WireLength;
            }
        }

        return _inner.GetLength(capabilities);
    }

    public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        var spool = await SpoolAsync(capabilities, cancellationToken).ConfigureAwait(false);
        await spool.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    internal override ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken) => new(this);

    /// <summary>The spool of this server's form, written now (one writer at a time) when it is the first of its form.</summary>
    internal async ValueTask<ContentSpool> SpoolAsync(SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        var key = capabilities.Extensions & FormExtensions;
        lock (_forms)
        {
            if (_forms.TryGetValue(key, out var known))
            {
                return known.Spool;
            }
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_forms)
            {
                if (_forms.TryGetValue(key, out var known))
                {
                    return known.Spool;
                }
            }

            var spool = _spools.Create();
            var writer = new ScanningWriter(spool);
            await _inner.WriteToAsync(writer, capabilities, cancellationToken).ConfigureAwait(false);
            await spool.CompleteAsync(cancellationToken).ConfigureAwait(false);
            lock (_forms)
            {
                _forms[key] = (spool, writer.Scan.WireLength);
            }

            return spool;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes into a spool, refusing a NUL and counting the length as sent.</summary>
    private sealed class ScanningWriter(ContentSpool spool) : WriteOnlyStream
    {
        private ContentScan _scan;

        public ContentScan Scan => _scan;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _scan.Feed(buffer, "content");
            spool.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _scan.Feed(buffer.Span, "content");
            return spool.WriteAsync(buffer, cancellationToken);
        }
    }
}

/// <summary>
/// One pass over content as it is read: refuses a NUL octet (naming its line and offset), and finds the length as
/// sent (SIZE, RFC 1870 section 4: every line end a CRLF, a last line without its end given one) and 8-bit octets.
/// </summary>
internal struct ContentScan
{
    private long _length;
    private long _bareLineEnds;
    private long _line;
    private bool _afterCr;
    private byte _last;

    public bool HasEightBit { get; private set; }

    public readonly long WireLength
    {
        get
        {
            var length = _length + _bareLineEnds + (_afterCr ? 1 : 0);
            return _length > 0 && _last is not ((byte)'\r' or (byte)'\n') ? length + 2 : length;
        }
    }

    /// <exception cref="SmtpContentException">The data holds a NUL octet.</exception>
    public void Feed(ReadOnlySpan<byte> data, string? paramName)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var nul = data.IndexOf((byte)0);
        if (nul >= 0)
        {
            CountLines(data[..nul]);
            throw SmtpContentException.Nul(_length + nul, _line + 1, paramName);
        }

        if (!HasEightBit && data.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
        {
            HasEightBit = true;
        }

        CountLines(data);
        _length += data.Length;
        _last = data[^1];
    }

    private void CountLines(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_afterCr)
            {
                _afterCr = false;
                if (data[0] == (byte)'\n')
                {
                    data = data[1..];
                    continue;
                }

                _bareLineEnds++; // a CR without its LF
            }

            var end = data.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                return;
            }

            _line++;
            _afterCr = data[end] == (byte)'\r';
            if (!_afterCr)
            {
                _bareLineEnds++; // an LF without its CR
            }

            data = data[(end + 1)..];
        }
    }
}
