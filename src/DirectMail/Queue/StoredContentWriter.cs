using System;
using DirectMail.IO;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// What a queue stores of a message: the content as a server receives it before dot-stuffing. Every line ends in
/// CRLF (a bare CR or LF becomes one, the last line gets one), so the stored length is the length declared with
/// SIZE and the stored octets are what a server keeps. A NUL octet is refused (<see cref="SmtpContentException"/>)
/// before anything reaches the store; 8-bit octets are noted for BODY=8BITMIME.
/// </summary>
internal sealed class StoredContentWriter(ContentSpool spool) : WriteOnlyStream
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private ContentScanner _scan = new(refuseLongLines: false);
    private bool _afterCr;
    private byte _last;
    private long _written;

    /// <summary>True once an octet above 127 was written.</summary>
    public bool HasEightBit => _scan.HasEightBit;

    /// <summary>True once a header line <c>TLS-Required: No</c> (RFC 8689 section 5) was written.</summary>
    public bool TlsRequiredNo => _scan.TlsRequiredNo;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _scan.Feed(buffer, "content");
        while (!buffer.IsEmpty)
        {
            if (_afterCr)
            {
                _afterCr = false;
                Emit("\n"u8);
                if (buffer[0] == (byte)'\n')
                {
                    buffer = buffer[1..];
                    continue;
                }
            }

            var end = buffer.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Emit(buffer);
                return;
            }

            Emit(buffer[..end]);
            if (buffer[end] == (byte)'\n')
            {
                Emit(Crlf);
            }
            else
            {
                Emit("\r"u8);
                _afterCr = true;
            }

            buffer = buffer[(end + 1)..];
        }
    }

    /// <summary>Ends the content: a last line without its end gets a CRLF.</summary>
    public void Complete()
    {
        if (_afterCr)
        {
            _afterCr = false;
            Emit("\n"u8);
        }
        else if (_written > 0 && _last != (byte)'\n')
        {
            Emit(Crlf);
        }
    }

    private void Emit(ReadOnlySpan<byte> octets)
    {
        if (octets.IsEmpty)
        {
            return;
        }

        spool.Write(octets);
        _written += octets.Length;
        _last = octets[^1];
    }
}
