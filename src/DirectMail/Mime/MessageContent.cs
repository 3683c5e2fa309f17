using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.IO;
using DirectMail.Smtp;

namespace DirectMail.Mime;

/// <summary>
/// An <see cref="EmailMessage"/> as SMTP content: a copy of the message taken by <see cref="EmailMessage.ToSmtpContent"/>,
/// written as RFC 5322 + MIME for each server. Text goes as 8bit only to a server that announced 8BITMIME, otherwise
/// quoted-printable or base64; attachments are streamed in base64. The same bytes are written on every attempt for
/// the same capabilities.
/// </summary>
public sealed class MessageContent : SmtpContent
{
    private readonly EmailAddress _from;
    private readonly EmailAddress? _sender;
    private readonly EmailAddress[] _replyTo;
    private readonly EmailAddress[] _to;
    private readonly EmailAddress[] _cc;
    private readonly string? _subject;
    private readonly string? _text;
    private readonly string? _html;
    private readonly TextInfo _textInfo;
    private readonly TextInfo _htmlInfo;
    private readonly Attachment[] _attachments;
    private readonly InlineResource[] _inline;
    private readonly EmailHeader[] _headers;
    private readonly EmailPriority _priority;
    private readonly string? _mixedBoundary;
    private readonly string? _alternativeBoundary;
    private readonly string? _relatedBoundary;
    private readonly bool _requiresSmtpUtf8;
    private readonly bool _tlsRequiredNo;
    private long? _sevenBitLength;
    private long? _eightBitLength;

    internal MessageContent(EmailMessage message, MimeRandom random, DateTimeOffset? now)
    {
        _from = message.From ?? throw new InvalidOperationException("The message has no From address: RFC 5322 requires the author.");
        if (message.To.Count + message.Cc.Count + message.Bcc.Count == 0)
        {
            throw new InvalidOperationException("The message has no recipient: add at least one address to To, Cc or Bcc.");
        }

        _sender = message.Sender;
        _replyTo = ToArray(message.ReplyTo);
        _to = ToArray(message.To);
        _cc = ToArray(message.Cc);
        _subject = message.Subject;
        _text = message.TextBody;
        _html = message.HtmlBody;
        _attachments = new Attachment[message.Attachments.Count];
        message.Attachments.CopyTo(_attachments, 0);
        _inline = new InlineResource[message.InlineResources.Count];
        message.InlineResources.CopyTo(_inline, 0);
        _headers = new EmailHeader[message.Headers.Count];
        message.Headers.CopyTo(_headers, 0);
        _priority = message.Priority;
        _tlsRequiredNo = message.IgnoreRecipientTlsPolicy;

        foreach (var resource in _attachments)
        {
            ArgumentNullException.ThrowIfNull(resource, nameof(message.Attachments));
        }

        foreach (var resource in _inline)
        {
            ArgumentNullException.ThrowIfNull(resource, nameof(message.InlineResources));
        }

        if (_inline.Length > 0 && _html is null)
        {
            throw new InvalidOperationException("The message has inline resources but no HTML body to refer to them: set HtmlBody, or send them as attachments.");
        }

        Date = message.Date ?? now ?? DateTimeOffset.Now;
        MessageId = message.MessageId ?? random.CreateMessageIdLocalPart() + "@" + (_sender ?? _from).Domain;

        if (_text is not null)
        {
            _textInfo = TextInfo.Scan(_text);
        }

        if (_html is not null)
        {
            _htmlInfo = TextInfo.Scan(_html);
        }

        if (_attachments.Length > 0)
        {
            _mixedBoundary = NewBoundary(random);
        }

        if (_text is not null && _html is not null)
        {
            _alternativeBoundary = NewBoundary(random);
        }

        if (_inline.Length > 0)
        {
            _relatedBoundary = NewBoundary(random);
        }

        _requiresSmtpUtf8 = _from.RequiresSmtpUtf8 || (_sender?.RequiresSmtpUtf8 ?? false)
            || AnyRequiresSmtpUtf8(_replyTo) || AnyRequiresSmtpUtf8(_to) || AnyRequiresSmtpUtf8(_cc);
    }

    /// <summary>A copy of <paramref name="source"/> (same Date, Message-ID and boundaries: the same octets) with other resources.</summary>
    private MessageContent(MessageContent source, Attachment[] attachments, InlineResource[] inline)
    {
        _from = source._from;
        _sender = source._sender;
        _replyTo = source._replyTo;
        _to = source._to;
        _cc = source._cc;
        _subject = source._subject;
        _text = source._text;
        _html = source._html;
        _textInfo = source._textInfo;
        _htmlInfo = source._htmlInfo;
        _attachments = attachments;
        _inline = inline;
        _headers = source._headers;
        _priority = source._priority;
        _mixedBoundary = source._mixedBoundary;
        _alternativeBoundary = source._alternativeBoundary;
        _relatedBoundary = source._relatedBoundary;
        _requiresSmtpUtf8 = source._requiresSmtpUtf8;
        _tlsRequiredNo = source._tlsRequiredNo;
        Date = source.Date;
        MessageId = source.MessageId;
    }

    /// <summary>The Message-ID without angle brackets: the message's own, or the one made for it.</summary>
    public string MessageId { get; }

    /// <summary>The Date written: the message's own, or the time the content was made.</summary>
    public DateTimeOffset Date { get; }

    /// <summary>True when an address in the headers has a UTF-8 local part (RFC 6531/6532): only a server offering SMTPUTF8 can take the message.</summary>
    public override bool RequiresSmtpUtf8 => _requiresSmtpUtf8;

    /// <summary>The message was made with <see cref="EmailMessage.IgnoreRecipientTlsPolicy"/>: its header has <c>TLS-Required: No</c>.</summary>
    internal override bool TlsRequiredNo => _tlsRequiredNo;

    /// <inheritdoc />
    public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        if (_requiresSmtpUtf8)
        {
            return SmtpBodyType.EightBit;
        }

        var eightBit = capabilities.Supports(SmtpExtensions.EightBitMime);
        return (_text is not null && _textInfo.Choose(eightBit) == TransferEncoding.EightBit)
            || (_html is not null && _htmlInfo.Choose(eightBit) == TransferEncoding.EightBit)
            ? SmtpBodyType.EightBit
            : SmtpBodyType.SevenBit;
    }

    /// <summary>
    /// The length of the message written for this server, measured without reading the attachments (their base64
    /// length follows from theirs); null when an attachment comes from a forward-only stream.
    /// </summary>
    /// <param name="capabilities">What the server announced: with 8BITMIME, text may go as 8bit and be shorter.</param>
    public override long? GetLength(SmtpCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        foreach (var resource in _attachments)
        {
            if (resource.KnownLength is null)
            {
                return null;
            }
        }

        foreach (var resource in _inline)
        {
            if (resource.KnownLength is null)
            {
                return null;
            }
        }

        var eightBit = capabilities.Supports(SmtpExtensions.EightBitMime);
        var cached = eightBit ? _eightBitLength : _sevenBitLength;
        if (cached is { } known)
        {
            return known;
        }

        var counter = new CountingStream();
        using (var writer = new MimeWriter(counter, CancellationToken.None, countOnly: true))
        {
            // Nothing here waits: the counter completes every write at once and no resource is read.
            var pending = WriteCoreAsync(writer, eightBit);
            if (!pending.IsCompletedSuccessfully)
            {
                pending.AsTask().GetAwaiter().GetResult();
            }

            known = counter.Length + writer.UnwrittenLength;
        }

        if (eightBit)
        {
            _eightBitLength = known;
        }
        else
        {
            _sevenBitLength = known;
        }

        return known;
    }

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(capabilities);
        using var writer = new MimeWriter(destination, cancellationToken);
        await WriteCoreAsync(writer, capabilities.Supports(SmtpExtensions.EightBitMime)).ConfigureAwait(false);
    }

    /// <summary>
    /// Text, bytes and files can be written by any number of sessions at once. An attachment or inline resource from
    /// a stream cannot when several write at once (one stream, one position), nor again when the stream is
    /// forward-only: such content is read once into a spool now, and a copy of the message over the spools returned.
    /// </summary>
    internal override async ValueTask<SmtpContent> ShareAsync(ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
    {
        var attachments = await ShareAsync(_attachments, spools, concurrent, cancellationToken).ConfigureAwait(false);
        var inline = await ShareAsync(_inline, spools, concurrent, cancellationToken).ConfigureAwait(false);
        return ReferenceEquals(attachments, _attachments) && ReferenceEquals(inline, _inline) ? this : new MessageContent(this, attachments, inline);
    }

    private static async ValueTask<T[]> ShareAsync<T>(T[] resources, ContentSpools spools, bool concurrent, CancellationToken cancellationToken)
        where T : EmailResource
    {
        T[]? copy = null;
        for (var i = 0; i < resources.Length; i++)
        {
            if (resources[i].NeedsSpool(concurrent))
            {
                copy ??= (T[])resources.Clone();
                copy[i] = (T)await resources[i].SpoolAsync(spools, cancellationToken).ConfigureAwait(false);
            }
        }

        return copy ?? resources;
    }

    private async ValueTask WriteCoreAsync(MimeWriter writer, bool eightBit)
    {
        WriteHeaders(writer);
        if (_mixedBoundary is not null)
        {
            WriteMultipartHeader(writer, "multipart/mixed", _mixedBoundary, null);
            var first = true;
            if (_text is not null || _html is not null)
            {
                writer.WriteBoundary(_mixedBoundary, first);
                first = false;
                await WriteMainBodyAsync(writer, eightBit).ConfigureAwait(false);
            }

            foreach (var attachment in _attachments)
            {
                writer.WriteBoundary(_mixedBoundary, first);
                first = false;
                await WriteResourceAsync(writer, attachment).ConfigureAwait(false);
            }

            writer.WriteCloseBoundary(_mixedBoundary);
        }
        else
        {
            await WriteMainBodyAsync(writer, eightBit).ConfigureAwait(false);
        }

        writer.WriteCrLf();
        await writer.FlushAsync().ConfigureAwait(false);
    }

    private void WriteHeaders(MimeWriter writer)
    {
        writer.StartField("Date:"u8);
        writer.WriteDateValue(Date);
        writer.EndField();

        writer.StartField("From:"u8);
        writer.WriteMailbox(_from);
        writer.EndField();

        if (_sender is not null)
        {
            writer.StartField("Sender:"u8);
            writer.WriteMailbox(_sender);
            writer.EndField();
        }

        WriteAddressField(writer, "Reply-To:"u8, _replyTo);
        WriteAddressField(writer, "To:"u8, _to);
        WriteAddressField(writer, "Cc:"u8, _cc);

        if (_subject is not null)
        {
            writer.StartField("Subject:"u8);
            writer.WriteUnstructured(_subject);
            writer.EndField();
        }

        writer.StartField("Message-ID:"u8);
        writer.WriteIdValue(MessageId);
        writer.EndField();

        if (_priority == EmailPriority.High)
        {
            writer.WriteSimpleField("X-Priority:"u8, "1 (Highest)");
            writer.WriteSimpleField("Importance:"u8, "high");
        }
        else if (_priority == EmailPriority.Low)
        {
            writer.WriteSimpleField("X-Priority:"u8, "5 (Lowest)");
            writer.WriteSimpleField("Importance:"u8, "low");
        }

        if (_tlsRequiredNo)
        {
            // RFC 8689 section 5: the exact form every implementation matches.
            writer.WriteSimpleField("TLS-Required:"u8, "No");
        }

        foreach (var header in _headers)
        {
            writer.StartField(header.Name);
            writer.WriteUnstructured(header.Value);
            writer.EndField();
        }

        writer.WriteSimpleField("MIME-Version:"u8, "1.0");
    }

    private static void WriteAddressField(MimeWriter writer, ReadOnlySpan<byte> name, EmailAddress[] addresses)
    {
        if (addresses.Length == 0)
        {
            return;
        }

        writer.StartField(name);
        writer.WriteAddressList(addresses);
        writer.EndField();
    }

    private static void WriteMultipartHeader(MimeWriter writer, string type, string boundary, string? relatedType)
    {
        writer.StartField("Content-Type:"u8);
        writer.WriteUnstructured(type);
        writer.WriteParameter("boundary", boundary);
        if (relatedType is not null)
        {
            writer.WriteParameter("type", relatedType);
        }

        writer.EndField();
        writer.WriteCrLf();
    }

    private async ValueTask WriteMainBodyAsync(MimeWriter writer, bool eightBit)
    {
        if (_alternativeBoundary is not null)
        {
            WriteMultipartHeader(writer, "multipart/alternative", _alternativeBoundary, null);
            writer.WriteBoundary(_alternativeBoundary, first: true);
            await WriteTextPartAsync(writer, _text!, _textInfo, "text/plain", eightBit).ConfigureAwait(false);
            writer.WriteBoundary(_alternativeBoundary, first: false);
            await WriteHtmlAsync(writer, eightBit).ConfigureAwait(false);
            writer.WriteCloseBoundary(_alternativeBoundary);
        }
        else if (_html is not null)
        {
            await WriteHtmlAsync(writer, eightBit).ConfigureAwait(false);
        }
        else
        {
            await WriteTextPartAsync(writer, _text ?? string.Empty, _textInfo, "text/plain", eightBit).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteHtmlAsync(MimeWriter writer, bool eightBit)
    {
        if (_relatedBoundary is null)
        {
            await WriteTextPartAsync(writer, _html!, _htmlInfo, "text/html", eightBit).ConfigureAwait(false);
            return;
        }

        WriteMultipartHeader(writer, "multipart/related", _relatedBoundary, "text/html");
        writer.WriteBoundary(_relatedBoundary, first: true);
        await WriteTextPartAsync(writer, _html!, _htmlInfo, "text/html", eightBit).ConfigureAwait(false);
        foreach (var resource in _inline)
        {
            writer.WriteBoundary(_relatedBoundary, first: false);
            await WriteResourceAsync(writer, resource).ConfigureAwait(false);
        }

        writer.WriteCloseBoundary(_relatedBoundary);
    }

    private static ValueTask WriteTextPartAsync(MimeWriter writer, string text, TextInfo info, string type, bool eightBit)
    {
        var encoding = info.Choose(eightBit);
        writer.StartField("Content-Type:"u8);
        writer.WriteUnstructured(type);
        writer.WriteParameter("charset", "utf-8");
        writer.EndField();
        writer.WriteSimpleField("Content-Transfer-Encoding:"u8, MimeWriter.EncodingName(encoding));
        writer.WriteCrLf();
        return writer.WriteTextBodyAsync(text, encoding);
    }

    private static ValueTask WriteResourceAsync(MimeWriter writer, EmailResource resource)
    {
        writer.StartField("Content-Type:"u8);
        writer.WriteUnstructured(resource.ContentType);
        if (resource.FileName is not null)
        {
            writer.WriteParameter("name", resource.FileName);
        }

        writer.EndField();
        writer.StartField("Content-Disposition:"u8);
        var inline = resource as InlineResource;
        writer.WriteUnstructured(inline is null ? "attachment" : "inline");
        if (resource.FileName is not null)
        {
            writer.WriteParameter("filename", resource.FileName);
        }

        writer.EndField();
        writer.WriteSimpleField("Content-Transfer-Encoding:"u8, "base64");
        if (inline is not null)
        {
            writer.StartField("Content-ID:"u8);
            writer.WriteIdValue(inline.ContentId);
            writer.EndField();
        }

        writer.WriteCrLf();
        return writer.WriteResourceBodyAsync(resource);
    }

    private string NewBoundary(MimeRandom random)
    {
        // 7bit and 8bit text is written as it is: make sure it cannot hold the boundary.
        while (true)
        {
            var boundary = random.CreateBoundary();
            if ((_text is null || !_text.Contains(boundary, StringComparison.Ordinal))
                && (_html is null || !_html.Contains(boundary, StringComparison.Ordinal)))
            {
                return boundary;
            }
        }
    }

    private static EmailAddress[] ToArray(EmailAddressCollection list)
    {
        if (list.Count == 0)
        {
            return [];
        }

        var array = new EmailAddress[list.Count];
        list.CopyTo(array, 0);
        return array;
    }

    private static bool AnyRequiresSmtpUtf8(EmailAddress[] addresses)
    {
        foreach (var address in addresses)
        {
            if (address.RequiresSmtpUtf8)
            {
                return true;
            }
        }

        return false;
    }
}
