using System;
using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Mime;

/// <summary>
/// Writes RFC 5322 + MIME into a stream through one pooled buffer: header fields folded at 78 characters with
/// RFC 2047 encoded-words and RFC 2231 parameters, bodies as 7bit, 8bit, quoted-printable or base64 in lines of at
/// most 76 characters (998 octets for 7bit and 8bit), every line ended by CRLF.
/// </summary>
/// <remarks>
/// The content of each entity does not end with CRLF: the CRLF before the next boundary belongs to the boundary
/// (RFC 2046 section 5.1.1), and the message as a whole gets a final CRLF.
/// </remarks>
internal sealed class MimeWriter : IDisposable
{
    private const int MaxHeaderLine = 78;
    private const int Base64LineOctets = 57;          // 76 characters
    private const int InitialBufferSize = 64 * 1024;
    private const int FlushThreshold = 32 * 1024;
    private const int SliceOctets = Base64LineOctets * 216; // about 12 KiB in, 16 KiB out
    private const int TextSliceChars = 2048;

    private static readonly byte[] Hex = "0123456789ABCDEF"u8.ToArray();

    private readonly Stream _destination;
    private readonly CancellationToken _cancellationToken;
    private readonly bool _countOnly;
    private byte[] _buffer;
    private int _length;
    private int _column;

    // Base64 state: the octets of an incomplete line, and whether a line was written in this entity.
    private byte[]? _carry;
    private int _carryLength;
    private bool _base64Started;

    // Quoted-printable state: the column of the current output line.
    private int _qpColumn;

    /// <param name="destination">Where the message goes.</param>
    /// <param name="cancellationToken">Cancels the writes.</param>
    /// <param name="countOnly">
    /// True to measure the message: resources are not read, their base64 length is added to <see cref="UnwrittenLength"/>.
    /// </param>
    public MimeWriter(Stream destination, CancellationToken cancellationToken, bool countOnly = false)
    {
        _destination = destination;
        _cancellationToken = cancellationToken;
        _countOnly = countOnly;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
    }

    /// <summary>In count-only mode, the octets the resources would have added.</summary>
    public long UnwrittenLength { get; private set; }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_carry is not null)
        {
            ArrayPool<byte>.Shared.Return(_carry);
            _carry = null;
        }
    }

    // ---------------------------------------------------------------- buffer

    public ValueTask FlushAsync()
    {
        if (_length == 0)
        {
            return ValueTask.CompletedTask;
        }

        var length = _length;
        _length = 0;
        return _destination.WriteAsync(_buffer.AsMemory(0, length), _cancellationToken);
    }

    public ValueTask FlushIfFullAsync() => _length >= FlushThreshold ? FlushAsync() : ValueTask.CompletedTask;

    private Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _length < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(_length);
    }

    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        _length++;
        _column++;
    }

    private void WriteAscii(ReadOnlySpan<byte> value)
    {
        value.CopyTo(GetSpan(value.Length));
        _length += value.Length;
        _column += value.Length;
    }

    /// <summary>Writes text as UTF-8; the column counts characters.</summary>
    private void WriteText(ReadOnlySpan<char> value)
    {
        var span = GetSpan(value.Length * 3);
        _length += Encoding.UTF8.GetBytes(value, span);
        _column += value.Length;
    }

    public void WriteCrLf()
    {
        var span = GetSpan(2);
        span[0] = (byte)'\r';
        span[1] = (byte)'\n';
        _length += 2;
        _column = 0;
    }

    // ---------------------------------------------------------------- header fields

    public void StartField(string name)
    {
        WriteText(name);
        WriteByte((byte)':');
    }

    public void StartField(ReadOnlySpan<byte> nameAndColon) => WriteAscii(nameAndColon);

    public void EndField() => WriteCrLf();

    /// <summary>Writes a whole field with a value that needs no folding or encoding (ASCII, short).</summary>
    public void WriteSimpleField(ReadOnlySpan<byte> nameAndColon, ReadOnlySpan<char> value)
    {
        WriteAscii(nameAndColon);
        WriteByte((byte)' ');
        WriteText(value);
        WriteCrLf();
    }

    /// <summary>Writes a whole field whose value is ASCII bytes.</summary>
    public void WriteSimpleField(ReadOnlySpan<byte> nameAndColon, ReadOnlySpan<byte> value)
    {
        WriteAscii(nameAndColon);
        WriteByte((byte)' ');
        WriteAscii(value);
        WriteCrLf();
    }

    /// <summary>A msg-id or Content-ID value, <c>&lt;id&gt;</c> (checked ASCII without spaces).</summary>
    public void WriteIdValue(string id)
    {
        Separate(id.Length + 2);
        WriteByte((byte)'<');
        WriteText(id);
        WriteByte((byte)'>');
    }

    /// <summary>Before a token of <paramref name="length"/> characters: a space, or a fold when the token would pass column 78.</summary>
    private void Separate(int length)
    {
        if (_column + 1 + length > MaxHeaderLine && _column > 1)
        {
            WriteCrLf();
        }

        WriteByte((byte)' ');
    }

    public void WriteDateValue(DateTimeOffset date)
    {
        Span<char> text = stackalloc char[MimeSyntax.MaxDateLength];
        var n = MimeSyntax.FormatDate(date, text);
        WriteByte((byte)' ');
        WriteText(text[..n]);
    }

    /// <summary>An unstructured value (RFC 5322 section 3.2.5): as it is, folded at spaces, when it is plain ASCII; otherwise encoded-words.</summary>
    public void WriteUnstructured(string value)
    {
        if (!CanWriteRaw(value))
        {
            WriteEncodedWords(value);
            return;
        }

        WriteByte((byte)' ');
        var i = 0;
        while (i < value.Length)
        {
            // A token is the spaces before a word and the word: folding goes before it, the space staying as the fold.
            var start = i;
            while (i < value.Length && value[i] == ' ')
            {
                i++;
            }

            while (i < value.Length && value[i] != ' ')
            {
                i++;
            }

            var token = value.AsSpan(start, i - start);
            if (start > 0 && token[0] == ' ' && token[^1] != ' ' && _column + token.Length > MaxHeaderLine)
            {
                WriteCrLf();
            }

            WriteText(token);
        }
    }

    private static bool CanWriteRaw(string value)
    {
        if (!Ascii.IsValid(value) || value.Contains("=?", StringComparison.Ordinal))
        {
            return false;
        }

        // No token (spaces and the word after them) may make a line too long to be folded under 998 octets.
        var longest = 0;
        var current = 0;
        var inWord = false;
        foreach (var c in value)
        {
            if (c == ' ' && inWord)
            {
                current = 0;
                inWord = false;
            }

            if (c != ' ')
            {
                inWord = true;
            }

            current++;
            longest = Math.Max(longest, current);
        }

        return longest <= 900;
    }

    /// <summary>A list of mailboxes (RFC 5322 section 3.4), folded between and inside mailboxes.</summary>
    public void WriteAddressList(EmailAddress[] addresses)
    {
        for (var i = 0; i < addresses.Length; i++)
        {
            if (i > 0)
            {
                WriteByte((byte)',');
            }

            WriteMailbox(addresses[i], i < addresses.Length - 1 ? 1 : 0);
        }
    }

    /// <summary>A mailbox; <paramref name="trailing"/> characters (a comma) will follow it on the line.</summary>
    public void WriteMailbox(EmailAddress mailbox, int trailing = 0)
    {
        var address = mailbox.Address;
        if (mailbox.DisplayName is not { } name)
        {
            Separate(address.Length + trailing);
            WriteText(address);
            return;
        }

        WritePhrase(name);
        Separate(address.Length + 2 + trailing);
        WriteByte((byte)'<');
        WriteText(address);
        WriteByte((byte)'>');
    }

    private void WritePhrase(string name)
    {
        if (IsAtomPhrase(name))
        {
            var rest = name.AsSpan();
            while (!rest.IsEmpty)
            {
                var space = rest.IndexOf(' ');
                var word = space < 0 ? rest : rest[..space];
                Separate(word.Length);
                WriteText(word);
                rest = space < 0 ? default : rest[(space + 1)..];
            }

            return;
        }

        if (Ascii.IsValid(name) && !name.Contains("=?", StringComparison.Ordinal))
        {
            var quoted = name.Length + 2;
            foreach (var c in name)
            {
                if (c is '"' or '\\')
                {
                    quoted++;
                }
            }

            if (quoted <= MaxHeaderLine - 2)
            {
                Separate(quoted);
                WriteByte((byte)'"');
                foreach (var c in name)
                {
                    if (c is '"' or '\\')
                    {
                        WriteByte((byte)'\\');
                    }

                    WriteByte((byte)c);
                }

                WriteByte((byte)'"');
                return;
            }
        }

        WriteEncodedWords(name);
    }

    /// <summary>
    /// True for words of atext separated by single spaces, written as they are; never for text holding "=?", which a
    /// reader would decode as an encoded-word (RFC 2047 section 5 (3)) when it looks like one.
    /// </summary>
    private static bool IsAtomPhrase(string name)
    {
        if (name[0] == ' ' || name[^1] == ' ' || name.Contains("  ", StringComparison.Ordinal) || name.Contains("=?", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c != ' ' && !IsAtext(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAtext(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '/' or '=' or '?' or '^' or '_' or '`' or '{' or '|' or '}' or '~';

    /// <summary>True for a character Q encoding leaves as it is, in a phrase too (RFC 2047 section 5 rule 3).</summary>
    private static bool IsQSafe(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'!' or (byte)'*' or (byte)'+' or (byte)'-' or (byte)'/';

    /// <summary>
    /// RFC 2047 encoded-words in UTF-8, each at most 75 characters and each on a line of at most 78; a character is
    /// never split across two words. Q when few octets need escaping, B otherwise.
    /// </summary>
    /// <remarks>Q uses the restricted alphabet of phrases (RFC 2047 section 5 rule 3), valid in unstructured text too.</remarks>
    private void WriteEncodedWords(string text)
    {
        var utf8Length = Encoding.UTF8.GetByteCount(text);
        var escapes = 0;
        foreach (var c in text)
        {
            if (c >= 0x80)
            {
                escapes += 2;
            }
            else if (c != ' ' && !IsQSafe((byte)c))
            {
                escapes++;
            }
        }

        var useB = escapes * 4 >= utf8Length;
        Span<byte> word = stackalloc byte[80];
        Span<byte> raw = stackalloc byte[64];
        Span<byte> runeBytes = stackalloc byte[4];
        var i = 0;
        while (i < text.Length)
        {
            var room = MaxHeaderLine - _column - 1;
            var fold = room < 20 && _column > 1;
            var max = fold ? 75 : Math.Min(75, room);
            if (max < 16)
            {
                max = 16; // only after a very long field name
            }

            var payloadMax = max - 12;
            var n = 0;
            "=?utf-8?"u8.CopyTo(word);
            n = 8;
            word[n++] = useB ? (byte)'B' : (byte)'Q';
            word[n++] = (byte)'?';
            if (useB)
            {
                var rawLength = 0;
                while (i < text.Length)
                {
                    Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var consumed);
                    var runeLength = rune.EncodeToUtf8(runeBytes);
                    if ((rawLength + runeLength + 2) / 3 * 4 > payloadMax)
                    {
                        break;
                    }

                    runeBytes[..runeLength].CopyTo(raw[rawLength..]);
                    rawLength += runeLength;
                    i += consumed;
                }

                Base64.EncodeToUtf8(raw[..rawLength], word[n..], out _, out var written);
                n += written;
            }
            else
            {
                var payload = 0;
                while (i < text.Length)
                {
                    Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var consumed);
                    var runeLength = rune.EncodeToUtf8(runeBytes);
                    var cost = 0;
                    for (var k = 0; k < runeLength; k++)
                    {
                        cost += runeBytes[k] == ' ' || IsQSafe(runeBytes[k]) ? 1 : 3;
                    }

                    if (payload + cost > payloadMax)
                    {
                        break;
                    }

                    for (var k = 0; k < runeLength; k++)
                    {
                        var b = runeBytes[k];
                        if (b == ' ')
                        {
                            word[n++] = (byte)'_';
                        }
                        else if (IsQSafe(b))
                        {
                            word[n++] = b;
                        }
                        else
                        {
                            word[n++] = (byte)'=';
                            word[n++] = Hex[b >> 4];
                            word[n++] = Hex[b & 15];
                        }
                    }

                    payload += cost;
                    i += consumed;
                }
            }

            word[n++] = (byte)'?';
            word[n++] = (byte)'=';
            if (fold)
            {
                WriteCrLf();
            }

            WriteByte((byte)' ');
            WriteAscii(word[..n]);
        }
    }

    /// <summary>
    /// A parameter of Content-Type or Content-Disposition (RFC 2045 section 5.1): a quoted string when it is short
    /// ASCII, otherwise RFC 2231 <c>attribute*=utf-8''...</c>, split into <c>attribute*N*=</c> sections to keep lines short.
    /// </summary>
    public void WriteParameter(string attribute, string value)
    {
        WriteByte((byte)';');
        if (value.Length > 0 && attribute.Length + 1 + value.Length <= MaxHeaderLine - 2 && IsToken(value))
        {
            Separate(attribute.Length + 1 + value.Length);
            WriteText(attribute);
            WriteByte((byte)'=');
            WriteText(value);
            return;
        }

        if (Ascii.IsValid(value))
        {
            var quoted = attribute.Length + 3 + value.Length;
            foreach (var c in value)
            {
                if (c is '"' or '\\')
                {
                    quoted++;
                }
            }

            if (quoted <= MaxHeaderLine - 2)
            {
                Separate(quoted);
                WriteText(attribute);
                WriteAscii("=\""u8);
                foreach (var c in value)
                {
                    if (c is '"' or '\\')
                    {
                        WriteByte((byte)'\\');
                    }

                    WriteByte((byte)c);
                }

                WriteByte((byte)'"');
                return;
            }
        }

        // RFC 2231: percent-encoded UTF-8, never splitting a character between sections.
        var total = 0;
        Span<byte> runeBytes = stackalloc byte[4];
        for (var i = 0; i < value.Length;)
        {
            Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var consumed);
            total += PercentLength(rune, runeBytes);
            i += consumed;
        }

        if (attribute.Length + 9 + total <= MaxHeaderLine - 2)
        {
            Separate(attribute.Length + 9 + total);
            WriteText(attribute);
            WriteAscii("*=utf-8''"u8);
            for (var i = 0; i < value.Length;)
            {
                Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var consumed);
                WritePercent(rune, runeBytes);
                i += consumed;
            }

            return;
        }

        Span<char> sectionName = stackalloc char[16];
        var section = 0;
        var position = 0;
        while (position < value.Length)
        {
            var prefix = attribute.Length + 3 + (section < 10 ? 1 : 2) + (section == 0 ? 7 : 0);
            var budget = MaxHeaderLine - 2 - prefix - 1;
            var end = position;
            var length = 0;
            while (end < value.Length)
            {
                Rune.DecodeFromUtf16(value.AsSpan(end), out var rune, out var consumed);
                var runeLength = PercentLength(rune, runeBytes);
                if (length + runeLength > budget)
                {
                    break;
                }

                length += runeLength;
                end += consumed;
            }

            if (section > 0)
            {
                WriteByte((byte)';');
            }

            Separate(prefix + length);
            WriteText(attribute);
            WriteByte((byte)'*');
            section.TryFormat(sectionName, out var w, default, CultureInfo.InvariantCulture);
            WriteText(sectionName[..w]);
            WriteAscii(section == 0 ? "*=utf-8''"u8 : "*="u8);
            while (position < end)
            {
                Rune.DecodeFromUtf16(value.AsSpan(position), out var rune, out var consumed);
                WritePercent(rune, runeBytes);
                position += consumed;
            }

            section++;
        }
    }

    private static bool IsToken(string value)
    {
        foreach (var c in value)
        {
            if (!MimeSyntax.IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAttributeChar(byte b) =>
        b is > 32 and < 127 and not ((byte)'*' or (byte)'\'' or (byte)'%' or (byte)'(' or (byte)')' or (byte)'<' or (byte)'>' or (byte)'@'
            or (byte)',' or (byte)';' or (byte)':' or (byte)'\\' or (byte)'"' or (byte)'/' or (byte)'[' or (byte)']' or (byte)'?' or (byte)'=');

    private static int PercentLength(Rune rune, Span<byte> scratch)
    {
        var n = rune.EncodeToUtf8(scratch);
        var length = 0;
        for (var k = 0; k < n; k++)
        {
            length += IsAttributeChar(scratch[k]) ? 1 : 3;
        }

        return length;
    }

    private void WritePercent(Rune rune, Span<byte> scratch)
    {
        var n = rune.EncodeToUtf8(scratch);
        for (var k = 0; k < n; k++)
        {
            var b = scratch[k];
            if (IsAttributeChar(b))
            {
                WriteByte(b);
            }
            else
            {
                WriteByte((byte)'%');
                WriteByte(Hex[b >> 4]);
                WriteByte(Hex[b & 15]);
            }
        }
    }

    // ---------------------------------------------------------------- MIME structure

    public void WriteBoundary(string boundary, bool first)
    {
        if (!first)
        {
            WriteCrLf();
        }

        WriteAscii("--"u8);
        WriteText(boundary);
        WriteCrLf();
    }

    public void WriteCloseBoundary(string boundary)
    {
        WriteCrLf();
        WriteAscii("--"u8);
        WriteText(boundary);
        WriteAscii("--"u8);
    }

    public static ReadOnlySpan<byte> EncodingName(TransferEncoding encoding) => encoding switch
    {
        TransferEncoding.SevenBit => "7bit"u8,
        TransferEncoding.EightBit => "8bit"u8,
        TransferEncoding.QuotedPrintable => "quoted-printable"u8,
        _ => "base64"u8,
    };

    // ---------------------------------------------------------------- bodies

    /// <summary>Writes text in <paramref name="encoding"/>, line ends normalised to CRLF, flushing as the buffer fills.</summary>
    public async ValueTask WriteTextBodyAsync(string text, TransferEncoding encoding)
    {
        _qpColumn = 0;
        _carryLength = 0;
        _base64Started = false;
        var position = 0;
        while (position < text.Length)
        {
            position = WriteTextSlice(text, position, encoding);
            await FlushIfFullAsync().ConfigureAwait(false);
        }

        if (encoding == TransferEncoding.Base64)
        {
            FinishBase64();
        }
    }

    /// <summary>Writes lines of the text from <paramref name="position"/> until about a buffer's worth is written; returns where it stopped.</summary>
    private int WriteTextSlice(string text, int position, TransferEncoding encoding)
    {
        Span<byte> scratch = stackalloc byte[TextSliceChars * 3];
        var stop = _length + FlushThreshold;
        while (position < text.Length && _length < stop)
        {
            // The line break is looked for only within the next slice and the character after it: searching the
            // whole rest of the text for it, once per slice, made one long line cost quadratic time.
            var rest = text.AsSpan(position);
            var window = rest.Length > TextSliceChars ? rest[..(TextSliceChars + 1)] : rest;
            var end = window.IndexOfAny('\r', '\n');
            ReadOnlySpan<char> slice;
            var lastSlice = end >= 0 || window.Length == rest.Length;
            var lineBreak = 0;
            if (lastSlice)
            {
                // The rest of the line fits in one slice.
                slice = end < 0 ? rest : rest[..end];
                if (end >= 0)
                {
                    lineBreak = rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? 2 : 1;
                }
            }
            else
            {
                // A long line is written in slices that never split a surrogate pair.
                var cut = char.IsHighSurrogate(rest[TextSliceChars - 1]) ? TextSliceChars - 1 : TextSliceChars;
                slice = rest[..cut];
            }

            switch (encoding)
            {
                case TransferEncoding.SevenBit:
                case TransferEncoding.EightBit:
                    WriteText(slice);
                    break;
                case TransferEncoding.QuotedPrintable:
                {
                    var n = Encoding.UTF8.GetBytes(slice, scratch);
                    WriteQuotedPrintable(scratch[..n], lastSlice);
                    break;
                }

                default:
                {
                    var n = Encoding.UTF8.GetBytes(slice, scratch);
                    WriteBase64(scratch[..n]);
                    break;
                }
            }

            position += slice.Length;
            if (lastSlice && lineBreak > 0)
            {
                position += lineBreak;
                if (encoding == TransferEncoding.Base64)
                {
                    WriteBase64("\r\n"u8);
                }
                else
                {
                    WriteCrLf();
                    _qpColumn = 0;
                }
            }
        }

        return position;
    }

    /// <summary>Quoted-printable (RFC 2045 section 6.7): lines of at most 76 characters with soft breaks; spaces at a line end escaped.</summary>
    private void WriteQuotedPrintable(ReadOnlySpan<byte> data, bool endsLine)
    {
        var span = GetSpan(data.Length * 4 + 8);
        var n = 0;
        var column = _qpColumn;
        for (var i = 0; i < data.Length; i++)
        {
            var b = data[i];
            var literal = b is (>= 33 and <= 60) or (>= 62 and <= 126)
                || (b is (byte)' ' or (byte)'\t' && !(endsLine && i == data.Length - 1));
            var cost = literal ? 1 : 3;
            if (column + cost > 75)
            {
                span[n++] = (byte)'=';
                span[n++] = (byte)'\r';
                span[n++] = (byte)'\n';
                column = 0;
            }

            if (literal)
            {
                span[n++] = b;
            }
            else
            {
                span[n++] = (byte)'=';
                span[n++] = Hex[b >> 4];
                span[n++] = Hex[b & 15];
            }

            column += cost;
        }

        _length += n;
        _qpColumn = column;
    }

    /// <summary>Base64 (RFC 2045 section 6.8) in lines of 76 characters, an incomplete line kept for the next call.</summary>
    private void WriteBase64(ReadOnlySpan<byte> data)
    {
        if (_carryLength > 0)
        {
            var take = Math.Min(Base64LineOctets - _carryLength, data.Length);
            data[..take].CopyTo(_carry.AsSpan(_carryLength));
            _carryLength += take;
            data = data[take..];
            if (_carryLength < Base64LineOctets)
            {
                return;
            }

            WriteBase64Line(_carry.AsSpan(0, Base64LineOctets));
            _carryLength = 0;
        }

        if (data.Length >= Base64LineOctets)
        {
            var lines = data.Length / Base64LineOctets;
            var span = GetSpan(lines * 78 + 2);
            var n = 0;
            for (var l = 0; l < lines; l++)
            {
                if (_base64Started)
                {
                    span[n++] = (byte)'\r';
                    span[n++] = (byte)'\n';
                }

                _base64Started = true;
                Base64.EncodeToUtf8(data.Slice(l * Base64LineOctets, Base64LineOctets), span[n..], out _, out var written);
                n += written;
            }

            _length += n;
            data = data[(lines * Base64LineOctets)..];
        }

        if (data.Length > 0)
        {
            _carry ??= ArrayPool<byte>.Shared.Rent(64);
            data.CopyTo(_carry);
            _carryLength = data.Length;
        }
    }

    private void WriteBase64Line(ReadOnlySpan<byte> line)
    {
        var span = GetSpan(80);
        var n = 0;
        if (_base64Started)
        {
            span[n++] = (byte)'\r';
            span[n++] = (byte)'\n';
        }

        _base64Started = true;
        Base64.EncodeToUtf8(line, span[n..], out _, out var written);
        _length += n + written;
    }

    private void FinishBase64()
    {
        if (_carryLength > 0)
        {
            WriteBase64Line(_carry.AsSpan(0, _carryLength));
            _carryLength = 0;
        }
    }

    /// <summary>Writes a resource's content in base64, reading its stream in pooled chunks, or its bytes in place.</summary>
    public async ValueTask WriteResourceBodyAsync(EmailResource resource)
    {
        _carryLength = 0;
        _base64Started = false;
        if (_countOnly)
        {
            // 4 characters per 3 octets, and a CRLF between lines of 57 octets.
            var octets = resource.KnownLength ?? throw new InvalidOperationException("The length of a forward-only stream is not known.");
            var lines = (octets + Base64LineOctets - 1) / Base64LineOctets;
            UnwrittenLength += ((octets + 2) / 3 * 4) + (lines > 0 ? (lines - 1) * 2 : 0);
            return;
        }

        var stream = resource.OpenStream();
        if (stream is null)
        {
            var bytes = resource.Bytes;
            for (var offset = 0; offset < bytes.Length; offset += SliceOctets)
            {
                WriteBase64(bytes.Span.Slice(offset, Math.Min(SliceOctets, bytes.Length - offset)));
                await FlushIfFullAsync().ConfigureAwait(false);
            }

            FinishBase64();
            return;
        }

        var input = ArrayPool<byte>.Shared.Rent(SliceOctets);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(input.AsMemory(0, SliceOctets), _cancellationToken).ConfigureAwait(false)) > 0)
            {
                WriteBase64(input.AsSpan(0, read));
                await FlushIfFullAsync().ConfigureAwait(false);
            }

            FinishBase64();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            if (resource.OwnsStream)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
