using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

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
/// A transaction that falls back to another host writes the content again; content made from a forward-only
/// stream can be written once only.
/// </remarks>
public abstract class SmtpContent
{
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
    /// <param name="content">The message, headers and body.</param>
    public static SmtpContent FromBytes(ReadOnlyMemory<byte> content) => new BytesContent(content);

    /// <summary>Content read from a stream as it is sent. The length declared with SIZE is the stream's length (when it can seek), before bare line ends are made CRLF.</summary>
    /// <param name="stream">The message, headers and body. A seekable stream is rewound to where it stood for every attempt; a forward-only one can be sent once.</param>
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
    }
}
