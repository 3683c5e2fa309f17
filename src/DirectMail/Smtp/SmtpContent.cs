using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;

namespace DirectMail.Smtp;

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

    /// <summary>
    /// The message's header has <c>TLS-Required: No</c> (RFC 8689 section 5): its sender asks that MTA-STS and DANE
    /// failures not stop it (TLS stays opportunistic). Ignored under <see cref="SmtpEnvelope.RequireTls"/>.
    /// </summary>
    internal virtual bool TlsRequiredNo => false;

    /// <summary>Writes the content to <paramref name="destination"/>. Line ends may be CRLF, LF or CR.</summary>
    /// <param name="destination">The session's data stream.</param>
    /// <param name="capabilities">What the server announced.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public abstract ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken);

    /// <summary>
    /// An existing message (RFC 5322 headers and body) in memory, sent as it is, scanned now: a line over 998 octets
    /// is refused, naming the line; the body type (7-bit or 8-bit), the need for SMTPUTF8 (8-bit octets in the header
    /// section, RFC 6532) and the exact length as sent (SIZE: every line end counted as CRLF) are found. Bare LF and CR
    /// line ends are left to the session, which sends CRLF.
    /// </summary>
    /// <param name="content">The message, headers and body (not copied: do not change them until they are sent).</param>
    /// <exception cref="ArgumentException">A line is longer than 998 octets (RFC 5321 section 4.5.3.1.6); the message names it.</exception>
    /// <exception cref="SmtpContentException">The bytes hold a NUL octet, which SMTP cannot carry.</exception>
    public static SmtpContent FromBytes(ReadOnlyMemory<byte> content) => RawMessageContent.ScanBytes(content);

    /// <summary>An existing message in a file, sent as it is: scanned now as <see cref="FromBytes"/> scans, and read again for every attempt.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">A line is longer than 998 octets; the message names it.</exception>
    /// <exception cref="SmtpContentException">The message holds a NUL octet.</exception>
    public static SmtpContent FromFile(string path) => RawMessageContent.ScanFile(path);

    /// <summary>
    /// An existing message read from a stream as it is sent. A seekable stream is scanned now from its position as
    /// <see cref="FromBytes"/> scans (and rewound to it for every attempt); a forward-only stream cannot be scanned, so
    /// its body type is what <paramref name="bodyType"/> declares, long lines are found by the session while sending,
    /// and a session can send it once. <see cref="Delivery.DirectMailer"/> reads a forward-only stream (or a stream sent
    /// to several domains) once, before it connects, into a private spool that it scans as a seekable stream is scanned.
    /// </summary>
    /// <param name="stream">The message, headers and body; it stays open: it belongs to the caller.</param>
    /// <param name="bodyType">
    /// For a forward-only stream only: what it holds (a seekable stream is scanned instead). Content declared
    /// <see cref="SmtpBodyType.SevenBit"/> that turns out to hold an 8-bit octet ends the transaction before the
    /// message is complete, so the server discards it.
    /// </param>
    /// <exception cref="ArgumentException">The stream cannot be read, or (seekable) a line is longer than 998 octets.</exception>
    /// <exception cref="SmtpContentException">(Seekable) the message holds a NUL octet.</exception>
    public static SmtpContent FromStream(Stream stream, SmtpBodyType bodyType = SmtpBodyType.SevenBit) => RawMessageContent.ForStream(stream, bodyType);
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
    private readonly bool _tlsRequiredNo;

    /// <param name="spool">The octets.</param>
    /// <param name="scan">What the octets were scanned to hold, as they were read into the spool.</param>
    public SpooledContent(ContentSpool spool, in ContentScanner scan)
    {
        _spool = spool;
        _bodyType = scan.BodyType;
        _requiresSmtpUtf8 = scan.HeaderHasEightBit;
        _wireLength = scan.WireLength;
        _tlsRequiredNo = scan.TlsRequiredNo;
    }

    public override bool RequiresSmtpUtf8 => _requiresSmtpUtf8;

    /// <summary>The spooled header has <c>TLS-Required: No</c> (found as it was read: a forward-only stream is known only now).</summary>
    internal override bool TlsRequiredNo => _tlsRequiredNo;

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

    internal override bool TlsRequiredNo => _inner.TlsRequiredNo;

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
        private ContentScanner _scan;

        public ContentScanner Scan => _scan;

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
