using System;
using System.IO;
using DirectMail.Smtp;

namespace DirectMail.Mime;

/// <summary>
/// Content for an existing RFC 5322 message sent as it is, with an envelope given separately
/// (<c>new SmtpEnvelope(sender, recipients)</c>). Bytes, files and seekable streams
/// are scanned when the content is made: a line over 998 octets is refused then, naming the line, and the body type
/// (7-bit or 8-bit), the need for SMTPUTF8 (8-bit octets in the header section, RFC 6532) and the length as sent
/// (for SIZE: every line end counted as CRLF) are found; a NUL octet, which SMTP cannot carry, is refused then with
/// <see cref="SmtpContentException"/>. A forward-only stream is read (and scanned the same way) by
/// <see cref="Delivery.DirectMailer"/> before it connects. Bare LF and CR line ends are left to the session, which
/// sends CRLF.
/// </summary>
public static class RawMessage
{
    /// <summary>A message in memory (not copied: do not change it until it is sent), scanned now.</summary>
    /// <param name="message">The message, headers and body.</param>
    /// <exception cref="ArgumentException">A line is longer than 998 octets (RFC 5321 section 4.5.3.1.6); the message names it.</exception>
    /// <exception cref="SmtpContentException">The message holds a NUL octet.</exception>
    public static SmtpContent FromBytes(ReadOnlyMemory<byte> message) => RawMessageContent.ScanBytes(message);

    /// <summary>A message in a file, scanned now and read again as it is sent.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">A line is longer than 998 octets; the message names it.</exception>
    /// <exception cref="SmtpContentException">The message holds a NUL octet.</exception>
    public static SmtpContent FromFile(string path) => RawMessageContent.ScanFile(path);

    /// <summary>
    /// A message read from a stream as it is sent. A seekable stream is scanned now from its position (and rewound to
    /// it for every attempt); a forward-only stream cannot be scanned, so its body type is what
    /// <paramref name="bodyType"/> declares, long lines are found by the session while sending, and it can be sent once.
    /// <see cref="Delivery.DirectMailer"/> reads a forward-only stream (or a stream sent to several domains) once,
    /// before it connects, into a private spool that it scans as a seekable stream is scanned.
    /// </summary>
    /// <param name="message">The message, headers and body; it stays open: it belongs to the caller.</param>
    /// <param name="bodyType">For a forward-only stream only: what it holds. A seekable stream is scanned instead.</param>
    /// <exception cref="ArgumentException">The stream cannot be read, or (seekable) a line is longer than 998 octets.</exception>
    /// <exception cref="SmtpContentException">(Seekable) the message holds a NUL octet.</exception>
    public static SmtpContent FromStream(Stream message, SmtpBodyType bodyType = SmtpBodyType.SevenBit) => RawMessageContent.ForStream(message, bodyType);
}

