using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;
using DirectMail.Mime;
using DirectMail.Smtp;

namespace DirectMail.Dsn;

/// <summary>
/// Writes a <see cref="DeliveryStatusNotice"/>: the notice's own text into one buffer, then the original's header (or
/// all of it) copied from its stream. Field values are checked when they are given, so what is written here never
/// holds a line break that was not put there on purpose.
/// </summary>
internal sealed class DeliveryStatusWriter
{
    private const int MaxLine = 78;
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly DeliveryStatusNotice _notice;
    private readonly MimeRandom _random;
    // The notice's own text, in a pooled buffer (returned when the write ends): a notice allocates no buffer of its own.
    private byte[] _text = ArrayPool<byte>.Shared.Rent(4096);
    private int _textLength;

    public DeliveryStatusWriter(DeliveryStatusNotice notice, MimeRandom random)
    {
        _notice = notice;
        _random = random;
    }

    /// <summary>Refuses what would break a field: CR, LF and other controls (and spaces where a value is one token).</summary>
    public static void CheckField(string value, string paramName, bool allowSpace)
    {
        SmtpSyntax.ThrowOnControl(value, paramName, "notice field");
        if (!allowSpace && value.Contains(' ', StringComparison.Ordinal))
        {
            throw new ArgumentException("The notice field is one token: it holds no space.", paramName);
        }
    }

    public static bool NeedsUtf8(DeliveryStatusNotice notice)
    {
        if (!IsAscii(notice.OriginalSender) || !IsAscii(notice.ReportingMta))
        {
            return true;
        }

        foreach (var r in notice.Recipients)
        {
            if (!IsAscii(r.FinalRecipient) || (r.OriginalRecipient is { } o && !IsAscii(o)) || (r.Reply is { } reply && !IsAscii(reply.Text)))
            {
                return true;
            }
        }

        return false;
    }

    public async Task<SmtpBodyType> WriteAsync(Stream original, Stream destination, CancellationToken cancellationToken)
    {
        // The original's header is read first (a notice quotes it, and its octets decide the part's type); with
        // RET=FULL the rest is spooled so that its octets are known before the part's header is written.
        var (header, headerLength, buffered) = await ReadHeaderAsync(original, cancellationToken).ConfigureAwait(false);
        var headerEightBit = HasEightBit(header.AsSpan(0, headerLength));
        ContentSpool? rest = null;
        try
        {
            var bodyEightBit = false;
            if (_notice.Return == DsnReturn.Full)
            {
                rest = new ContentSpool(prefix: "directmail-dsn-");
                var start = header.AsSpan(headerLength, buffered - headerLength);
                bodyEightBit = HasEightBit(start);
                rest.Write(start);
                await ContentSpool.FillAsync(original, rest, chunk => bodyEightBit |= HasEightBit(chunk), cancellationToken).ConfigureAwait(false);
            }

            var global = NeedsUtf8(_notice) || headerEightBit;
            var eightBit = global || bodyEightBit;
            var boundary = _random.CreateBoundary();
            WriteNoticeHeader(boundary, eightBit);
            WriteHumanPart(boundary);
            WriteStatusPart(boundary, global);

            Delimiter(boundary);
            if (_notice.Return == DsnReturn.Full)
            {
                Line("Content-Description: The original message");
                Line(global ? "Content-Type: message/global" : "Content-Type: message/rfc822");
            }
            else
            {
                Line("Content-Description: The original message's header");
                Line(global ? "Content-Type: message/global-headers" : "Content-Type: text/rfc822-headers");
            }

            Line(eightBit ? "Content-Transfer-Encoding: 8bit" : "Content-Transfer-Encoding: 7bit");
            Line(string.Empty);
            await destination.WriteAsync(_text.AsMemory(0, _textLength), cancellationToken).ConfigureAwait(false);
            _textLength = 0;

            await destination.WriteAsync(header.AsMemory(0, headerLength), cancellationToken).ConfigureAwait(false);
            if (rest is not null)
            {
                await rest.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            }
            else if (headerLength > 0 && !header.AsSpan(0, headerLength).EndsWith("\r\n"u8))
            {
                Line(string.Empty);
            }

            // The part ends with a line end of its own before the closing delimiter.
            Text("\r\n--");
            Text(boundary);
            Line("--");
            await destination.WriteAsync(_text.AsMemory(0, _textLength), cancellationToken).ConfigureAwait(false);
            return eightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
            ArrayPool<byte>.Shared.Return(_text);
            _text = [];
            if (rest is not null)
            {
                await rest.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private void WriteNoticeHeader(string boundary, bool eightBit)
    {
        Span<char> date = stackalloc char[MimeSyntax.MaxDateLength];
        var n = MimeSyntax.FormatDate(_notice.Date ?? DateTimeOffset.UtcNow, date);
        Text("Date: ");
        Text(date[..n]);
        Line(string.Empty);
        Text("From: Mail Delivery System <MAILER-DAEMON@");
        Text(_notice.ReportingMta);
        Line(">");
        Field("Subject: ", Subject());
        Text("To: <");
        Text(_notice.OriginalSender);
        Line(">");
        Line("Auto-Submitted: auto-replied");
        Text("Message-ID: <");
        if (_notice.MessageId is { } messageId)
        {
            Text(messageId);
        }
        else
        {
            Text(_random.CreateMessageIdLocalPart());
            Text("@");
            Text(_notice.ReportingMta);
        }

        Line(">");
        Line("MIME-Version: 1.0");
        Line("Content-Type: multipart/report; report-type=delivery-status;");
        Text("\tboundary=\"");
        Text(boundary);
        Line("\"");
        Line(eightBit ? "Content-Transfer-Encoding: 8bit" : "Content-Transfer-Encoding: 7bit");
        Line(string.Empty);
        Line("This is a MIME-encapsulated delivery status notification (RFC 3464).");
        Line(string.Empty);
    }

    private string Subject()
    {
        var delayed = false;
        var delivered = false;
        foreach (var r in _notice.Recipients)
        {
            if (r.Action == DsnAction.Failed)
            {
                return "Undelivered Mail Returned to Sender";
            }

            delayed |= r.Action == DsnAction.Delayed;
            delivered |= r.Action != DsnAction.Delayed;
        }

        return delayed && !delivered ? "Delayed Mail (still being retried)" : delayed ? "Delivery Status Notification (delay and success)" : "Successful Mail Delivery Report";
    }

    private void WriteHumanPart(string boundary)
    {
        var utf8 = NeedsUtf8(_notice);
        Delimiter(boundary);
        Line("Content-Description: Notification");
        Line(utf8 ? "Content-Type: text/plain; charset=utf-8" : "Content-Type: text/plain; charset=us-ascii");
        Line(utf8 ? "Content-Transfer-Encoding: 8bit" : "Content-Transfer-Encoding: 7bit");
        Line(string.Empty);
        Text("This is the mail system at host ");
        Text(_notice.ReportingMta);
        Line(".");
        Line(string.Empty);
        foreach (var (action, opening) in Openings)
        {
            var any = false;
            foreach (var r in _notice.Recipients)
            {
                if (r.Action != action)
                {
                    continue;
                }

                if (!any)
                {
                    Wrapped(opening);
                    Line(string.Empty);
                    any = true;
                }

                var said = r.Reply is { } reply
                    ? (reply.IsSynthetic ? "not sent: " : r.RemoteMta is { } host ? "host " + host + " said: " : "the server said: ") + OneLine(reply)
                    : r.Detail ?? r.Status.ToString();
                Wrapped("<" + r.FinalRecipient + ">: " + said);
                if (r.WillRetryUntil is { } until && action == DsnAction.Delayed)
                {
                    Wrapped("    It is tried until " + FormatDate(until) + ".");
                }

                Line(string.Empty);
            }
        }
    }

    private static readonly (DsnAction Action, string Opening)[] Openings =
    [
        (DsnAction.Failed, "Your message could not be delivered to the recipients below, and will not be tried again."),
        (DsnAction.Delayed, "Your message has not been delivered yet to the recipients below. It is still being tried; you need not send it again."),
        (DsnAction.Delivered, "Your message was delivered to the recipients below."),
        (DsnAction.Relayed, "Your message was handed on to the recipients' servers below, which do not send delivery notifications: you may not hear more of it."),
        (DsnAction.Expanded, "Your message was delivered to the recipients below and forwarded to their members."),
    ];

    private void WriteStatusPart(string boundary, bool global)
    {
        Delimiter(boundary);
        Line("Content-Description: Delivery report");
        Line(global ? "Content-Type: message/global-delivery-status" : "Content-Type: message/delivery-status");
        Line(global ? "Content-Transfer-Encoding: 8bit" : "Content-Transfer-Encoding: 7bit");
        Line(string.Empty);

        // Per-message fields (RFC 3464 section 2.2).
        Field("Reporting-MTA: dns; ", _notice.ReportingMta);
        if (_notice.EnvelopeId is { } envelopeId)
        {
            Field("Original-Envelope-Id: ", envelopeId);
        }

        if (_notice.ArrivalDate is { } arrival)
        {
            DateField("Arrival-Date: ", arrival);
        }

        // Per-recipient fields (RFC 3464 section 2.3), each group after a blank line.
        foreach (var r in _notice.Recipients)
        {
            Line(string.Empty);
            Text("Final-Recipient: ");
            Text(AddressType(r.FinalRecipient));
            Field("; ", r.FinalRecipient);
            if (r.OriginalRecipient is { } original)
            {
                Text("Original-Recipient: ");
                Text(AddressType(original));
                Field(";", original);
            }

            Field("Action: ", ActionName(r.Action));
            Text("Status: ");
            StatusLine(r.Status);
            if (r.RemoteMta is { } remote)
            {
                Field("Remote-MTA: dns; ", remote);
            }

            if (r.Reply is { } reply)
            {
                // A reply DirectMail made itself (suppressed, REQUIRETLS unmet) is no server's: its own diagnostic type,
                // as Postfix writes X-Postfix for what it decided itself (RFC 3464 section 2.3.6).
                Wrapped((reply.IsSynthetic ? "Diagnostic-Code: X-DirectMail; " : "Diagnostic-Code: smtp; ") + OneLine(reply), fold: true);
            }

            if (r.LastAttemptDate is { } last)
            {
                DateField("Last-Attempt-Date: ", last);
            }

            if (r.WillRetryUntil is { } until)
            {
                DateField("Will-Retry-Until: ", until);
            }
        }

        Line(string.Empty);
    }

    /// <summary>The status code as x.y.z, without making a string of it.</summary>
    private void StatusLine(EnhancedStatusCode code)
    {
        Span<char> status = stackalloc char[16];
        code.Class.TryFormat(status, out var w, default, CultureInfo.InvariantCulture);
        status[w++] = '.';
        code.Subject.TryFormat(status[w..], out var w2, default, CultureInfo.InvariantCulture);
        w += w2;
        status[w++] = '.';
        code.Detail.TryFormat(status[w..], out w2, default, CultureInfo.InvariantCulture);
        Line(status[..(w + w2)]);
    }

    private static string ActionName(DsnAction action) => action switch
    {
        DsnAction.Failed => "failed",
        DsnAction.Delayed => "delayed",
        DsnAction.Delivered => "delivered",
        DsnAction.Relayed => "relayed",
        _ => "expanded",
    };

    /// <summary>RFC 6533: an address with non-ASCII characters is of type utf-8.</summary>
    private static string AddressType(string address) => IsAscii(address) ? "rfc822" : "utf-8";

    /// <summary>A reply as one line: the code, then its lines joined by spaces (as Postfix writes Diagnostic-Code).</summary>
    private static string OneLine(SmtpReply reply)
    {
        var text = new StringBuilder(reply.Code.ToString(CultureInfo.InvariantCulture), 64);
        foreach (var line in reply.Lines)
        {
            text.Append(' ');
            foreach (var c in line)
            {
                // Server text is quoted, never obeyed: controls become spaces.
                text.Append(c < 0x20 || c == 0x7F ? ' ' : c);
            }
        }

        return text.ToString();
    }

    private static string FormatDate(DateTimeOffset value)
    {
        Span<char> date = stackalloc char[MimeSyntax.MaxDateLength];
        return date[..MimeSyntax.FormatDate(value, date)].ToString();
    }

    private void DateField(string name, DateTimeOffset value)
    {
        Span<char> date = stackalloc char[MimeSyntax.MaxDateLength];
        var n = MimeSyntax.FormatDate(value, date);
        Text(name);
        Text(date[..n]);
        Line(string.Empty);
    }

    /// <summary>
    /// A long line broken at spaces before column 78: as folded header lines (a space starts each continuation) when
    /// <paramref name="fold"/>, as text lines otherwise. A word longer than a line stays whole (up to 998 octets).
    /// </summary>
    private void Wrapped(string text, bool fold = false)
    {
        var start = 0;
        while (text.Length - start > MaxLine)
        {
            var limit = start + MaxLine;
            var cut = text.LastIndexOf(' ', limit, limit - start);
            if (cut <= start)
            {
                cut = text.IndexOf(' ', limit);
                if (cut < 0)
                {
                    break;
                }
            }

            Line(text.AsSpan(start, cut - start));
            start = fold ? cut : cut + 1;
            if (fold && start < text.Length && text[start] != ' ')
            {
                Text(" ");
            }
        }

        Line(text.AsSpan(start));
    }

    /// <summary>A field (or any line) of a name and its value: no string is made of the two.</summary>
    private void Field(string name, ReadOnlySpan<char> value)
    {
        Text(name);
        Line(value);
    }

    /// <summary>A MIME part's delimiter line.</summary>
    private void Delimiter(string boundary) => Field("--", boundary);

    private void Line(string text) => Line(text.AsSpan());

    private void Line(ReadOnlySpan<char> text)
    {
        Text(text);
        Text("\r\n");
    }

    private void Text(ReadOnlySpan<char> text)
    {
        var needed = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_text.Length - _textLength < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_text.Length * 2, _textLength + needed));
            _text.AsSpan(0, _textLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_text);
            _text = larger;
        }

        _textLength += Encoding.UTF8.GetBytes(text, _text.AsSpan(_textLength));
    }

    private static bool IsAscii(string value) => System.Text.Ascii.IsValid(value);

    private static bool HasEightBit(ReadOnlySpan<byte> chunk) => !System.Text.Ascii.IsValid(chunk);

    /// <summary>
    /// Reads the original in chunks until the blank line that ends its header (at most 1 MiB is looked at: what is
    /// longer is not a header). Returns the buffer, the header's length (up to and including the blank line, or all
    /// that was read when there is none), and how much was read in all: the octets past the header are the body's start.
    /// </summary>
    private static async Task<(byte[] Buffer, int HeaderLength, int Read)> ReadHeaderAsync(Stream original, CancellationToken cancellationToken)
    {
        const int Limit = 1024 * 1024;
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        var length = 0;
        try
        {
            while (length < Limit)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var searchFrom = Math.Max(0, length - 3);
                var read = await original.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length >= 2 && buffer[0] == '\r' && buffer[1] == '\n')
                {
                    return (buffer, 2, length); // no header at all
                }

                var end = buffer.AsSpan(searchFrom, length - searchFrom).IndexOf(HeaderEnd);
                if (end >= 0)
                {
                    return (buffer, searchFrom + end + HeaderEnd.Length, length);
                }
            }

            return (buffer, length, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
