using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Dsn;

/// <summary>
/// Reads bounces that come back after a server accepted a message: standard delivery status notifications
/// (RFC 3464 <c>multipart/report; report-type=delivery-status</c>, RFC 6533 <c>message/global-delivery-status</c>)
/// and the common text formats (Exchange and Microsoft 365, Gmail, Postfix, Exim, qmail), into a
/// <see cref="BounceReport"/> with the keys that correlate it with what was sent and each recipient classified.
/// A message that is not a bounce gives <see cref="BounceKind.NotABounce"/> and no recipients. The work is bounded
/// whatever the input: nesting deeper than <see cref="MaxDepth"/> and parts beyond <see cref="MaxParts"/> are not read,
/// at most <see cref="MaxRecipients"/> recipients are reported, and a message larger than <see cref="MaxMessageSize"/>
/// is refused with <see cref="BounceParseException"/>.
/// </summary>
/// <remarks>
/// A text bounce is one only when its header says it comes from the mail system (a <c>From</c> of
/// <c>MAILER-DAEMON</c>, <c>postmaster</c> or "Mail Delivery", a null <c>Return-Path</c>, an
/// <c>X-Failed-Recipients</c> field, or a bounce subject) and its text is in a known format, or it names its failed
/// recipients in <c>X-Failed-Recipients</c>.
/// </remarks>
public static class BounceParser
{
    /// <summary>The largest message read: 32 MiB.</summary>
    public const int MaxMessageSize = 32 * 1024 * 1024;

    /// <summary>The most recipients one report gives (<see cref="BounceReport.RecipientsTruncated"/> tells when there were more).</summary>
    public const int MaxRecipients = 1000;

    /// <summary>How deep multipart bodies are followed.</summary>
    public const int MaxDepth = 8;

    /// <summary>How many body parts are looked at in all.</summary>
    public const int MaxParts = 256;

    private const int MaxTextParts = 4;

    /// <summary>Of a text part, this much is read for a text bounce's recipients (they come first; the rest is the returned message).</summary>
    private const int MaxTextLength = 256 * 1024;

    private static readonly string[] BounceSubjects =
    [
        "Undeliver", "Undelivered Mail", "Returned mail", "Mail delivery failed", "Delivery Status Notification", "failure notice",
        "Delivery has failed", "Delivery failure", "Mail System Error", "Delayed Mail", "Delivery delayed", "Warning: message",
    ];

    /// <summary>Reads a received message (RFC 5322 with MIME; CRLF or LF line ends).</summary>
    /// <param name="message">The whole message, header and body.</param>
    /// <returns>What the message reports.</returns>
    /// <exception cref="BounceParseException">The message is larger than <see cref="MaxMessageSize"/>.</exception>
    public static BounceReport Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length > MaxMessageSize)
        {
            throw new BounceParseException($"The message is {message.Length} octets; at most {MaxMessageSize} are read.");
        }

        var walk = new Walk();
        var bodyStart = MimeScan.BodyStart(message, out var headerLength);
        var header = message[..headerLength];
        walk.Entity(header, message[bodyStart..], depth: 0);

        string? to = null, from = null, subject = null, failedRecipients = null;
        var nullReturnPath = false;
        var position = 0;
        var count = 0;
        while (count++ < MimeScan.MaxFields && MimeScan.NextField(header, ref position, out var name, out var value))
        {
            if (Ascii.EqualsIgnoreCase(name, "To"u8))
            {
                to ??= MimeScan.Address(MimeScan.Text(value));
            }
            else if (Ascii.EqualsIgnoreCase(name, "From"u8))
            {
                from ??= MimeScan.Text(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Subject"u8))
            {
                subject ??= MimeScan.Text(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "X-Failed-Recipients"u8))
            {
                failedRecipients ??= MimeScan.Text(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Return-Path"u8))
            {
                nullReturnPath |= MimeScan.Trim(value).SequenceEqual("<>"u8);
            }
        }

        var messageId = walk.OriginalMessageId ?? QuotedMessageId(walk.Texts);
        if (walk.Status is { Recipients.Count: > 0 } status)
        {
            return new BounceReport(BounceKind.Dsn, status.Recipients)
            {
                RecipientsTruncated = status.Truncated,
                EnvelopeId = status.EnvelopeId,
                ReportingMta = status.ReportingMta,
                ArrivalDate = status.ArrivalDate,
                OriginalMessageId = messageId,
                To = to,
            };
        }

        // Another kind of report (a read receipt, an abuse report) is not a bounce.
        if (walk.OtherReport || !LooksLikeBounce(from, subject, nullReturnPath, failedRecipients))
        {
            return BounceReport.NotABounce;
        }

        var delayed = subject is not null && (subject.Contains("delay", StringComparison.OrdinalIgnoreCase) || subject.StartsWith("Warning:", StringComparison.OrdinalIgnoreCase));
        var recipients = new List<BounceRecipient>();
        var truncated = false;
        foreach (var text in walk.Texts)
        {
            var reader = new TextBounceReader(text);
            var found = reader.Read();
            if (found.Count == 0)
            {
                continue;
            }

            var action = delayed || reader.SaysDelayed ? DsnAction.Delayed : DsnAction.Failed;
            foreach (var (address, diagnostic, remote) in found)
            {
                if (recipients.Count == MaxRecipients)
                {
                    truncated = true;
                    break;
                }

                var code = diagnostic is null ? null : DsnText.FindStatus(diagnostic);
                var recipientAction = code is { Class: 5 } ? DsnAction.Failed : action;
                recipients.Add(new BounceRecipient(address, recipientAction, code, BounceClassifier.Classify(recipientAction, code, diagnostic))
                {
                    RemoteMta = remote,
                    Diagnostic = diagnostic,
                });
            }

            break;
        }

        if (recipients.Count == 0 && failedRecipients is not null)
        {
            foreach (var part in failedRecipients.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (recipients.Count == MaxRecipients)
                {
                    truncated = true;
                    break;
                }

                if (part.IndexOf('@') > 0 && part.IndexOf(' ') < 0)
                {
                    recipients.Add(new BounceRecipient(part.Trim('<', '>'), DsnAction.Failed, null, BounceClassification.Other));
                }
            }
        }

        return recipients.Count == 0
            ? BounceReport.NotABounce
            : new BounceReport(BounceKind.NonStandard, recipients) { RecipientsTruncated = truncated, OriginalMessageId = messageId, To = to };
    }

    /// <summary>Reads a received message from a stream (up to <see cref="MaxMessageSize"/> octets).</summary>
    /// <param name="message">The message, read to its end; not disposed.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>What the message reports.</returns>
    /// <exception cref="BounceParseException">The message is larger than <see cref="MaxMessageSize"/>.</exception>
    public static async Task<BounceReport> ParseAsync(Stream message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                // One octet more than the limit is asked for, to know that there are more.
                var read = await message.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length - length, MaxMessageSize + 1 - length)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > MaxMessageSize)
                {
                    throw new BounceParseException($"The message is longer than {MaxMessageSize} octets, the most that is read.");
                }
            }

            return Parse(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool LooksLikeBounce(string? from, string? subject, bool nullReturnPath, string? failedRecipients)
    {
        if (nullReturnPath || failedRecipients is not null)
        {
            return true;
        }

        if (from is not null && (from.Contains("mailer-daemon", StringComparison.OrdinalIgnoreCase) || from.Contains("postmaster", StringComparison.OrdinalIgnoreCase)
            || from.Contains("Mail Delivery", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        if (subject is not null)
        {
            foreach (var s in BounceSubjects)
            {
                if (subject.StartsWith(s, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The first <c>Message-ID:</c> at the start of a line in the text (the headers a text bounce quotes).</summary>
    private static string? QuotedMessageId(List<string> texts)
    {
        foreach (var text in texts)
        {
            var from = 0;
            while (from < text.Length)
            {
                var at = text.IndexOf("Message-ID:", from, StringComparison.OrdinalIgnoreCase);
                if (at < 0)
                {
                    break;
                }

                from = at + 11;
                if (at > 0 && text[at - 1] != '\n')
                {
                    continue;
                }

                if (IdIn(text.AsSpan(from, Math.Min(text.Length - from, 1000))) is { } id)
                {
                    return id;
                }
            }
        }

        return null;
    }

    /// <summary>The id between the first angle brackets (on the field's line or a folded one), or null.</summary>
    internal static string? IdIn(ReadOnlySpan<char> value)
    {
        var open = value.IndexOf('<');
        if (open < 0)
        {
            return null;
        }

        // Before the bracket only white space, and a line end only where the field is folded.
        for (var i = 0; i < open; i++)
        {
            var c = value[i];
            if (c is not (' ' or '\t' or '\r' or '\n') || (c == '\n' && value[i + 1] is not (' ' or '\t')))
            {
                return null;
            }
        }

        var close = value[(open + 1)..].IndexOf('>');
        if (close <= 0)
        {
            return null;
        }

        var id = value.Slice(open + 1, close);
        return id.IndexOfAny(" \t\r\n<") >= 0 ? null : id.ToString();
    }

    /// <summary>One pass over the MIME tree: the first delivery-status part read, the returned header's Message-ID, the first text parts.</summary>
    private sealed class Walk
    {
        private int _parts;

        public DeliveryStatusReader? Status { get; private set; }

        public string? OriginalMessageId { get; private set; }

        public bool OtherReport { get; private set; }

        public List<string> Texts { get; } = [];

        public void Entity(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body, int depth)
        {
            ReadOnlySpan<byte> contentType = default, transferEncoding = default;
            var position = 0;
            var count = 0;
            while (count++ < MimeScan.MaxFields && MimeScan.NextField(header, ref position, out var name, out var value))
            {
                if (Ascii.EqualsIgnoreCase(name, "Content-Type"u8))
                {
                    contentType = value;
                }
                else if (Ascii.EqualsIgnoreCase(name, "Content-Transfer-Encoding"u8))
                {
                    transferEncoding = value;
                }
            }

            var media = MimeScan.MediaType(contentType);
            if (media.Length > 10 && Ascii.EqualsIgnoreCase(media[..10], "multipart/"u8))
            {
                if (depth == 0 && Ascii.EqualsIgnoreCase(media, "multipart/report"u8))
                {
                    var reportType = MimeScan.Parameter(contentType, "report-type"u8);
                    OtherReport = !reportType.IsEmpty && !Ascii.EqualsIgnoreCase(reportType, "delivery-status"u8) && !Ascii.EqualsIgnoreCase(reportType, "global-delivery-status"u8);
                }

                var boundary = MimeScan.Parameter(contentType, "boundary"u8);
                if (boundary.IsEmpty || boundary.Length > 200 || depth >= MaxDepth)
                {
                    return;
                }

                Span<byte> delimiter = stackalloc byte[boundary.Length + 2];
                delimiter[0] = (byte)'-';
                delimiter[1] = (byte)'-';
                boundary.CopyTo(delimiter[2..]);
                var at = 0;
                while (_parts < MaxParts && MimeScan.NextPart(body, delimiter, ref at, out var part))
                {
                    _parts++;
                    var partBody = MimeScan.BodyStart(part, out var partHeader);
                    Entity(part[..partHeader], part[partBody..], depth + 1);
                }

                return;
            }

            if (Ascii.EqualsIgnoreCase(media, "message/delivery-status"u8) || Ascii.EqualsIgnoreCase(media, "message/global-delivery-status"u8))
            {
                if (Status is null)
                {
                    MimeScan.Decode(body, transferEncoding, out var plain);
                    Status = new DeliveryStatusReader();
                    Status.Read(plain, MaxRecipients);
                }

                return;
            }

            if (Ascii.EqualsIgnoreCase(media, "text/rfc822-headers"u8) || Ascii.EqualsIgnoreCase(media, "message/global-headers"u8)
                || Ascii.EqualsIgnoreCase(media, "message/rfc822"u8) || Ascii.EqualsIgnoreCase(media, "message/global"u8))
            {
                if (OriginalMessageId is null)
                {
                    MimeScan.Decode(body, transferEncoding, out var plain);
                    MimeScan.BodyStart(plain, out var returnedHeader);
                    if (MimeScan.TryGetField(plain[..returnedHeader], "Message-ID"u8, out var id) && MimeScan.Text(id) is { } idText)
                    {
                        OriginalMessageId = IdIn(idText);
                    }
                }

                return;
            }

            var isText = media.Length >= 5 && Ascii.EqualsIgnoreCase(media[..5], "text/"u8) && !Ascii.EqualsIgnoreCase(media, "text/html"u8);
            if (isText && Texts.Count < MaxTextParts)
            {
                MimeScan.Decode(body.Length > MaxTextLength * 2 ? body[..(MaxTextLength * 2)] : body, transferEncoding, out var plain);
                plain = plain.Length > MaxTextLength ? plain[..MaxTextLength] : plain;
                Texts.Add(MimeScan.Decode(plain, MimeScan.Parameter(contentType, "charset"u8)));
            }
        }
    }
}
