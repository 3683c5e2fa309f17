using System;
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace DirectMail.Dsn;

/// <summary>
/// A bounded reader of RFC 5322 headers and MIME structure over octets, for <see cref="BounceParser"/>: CRLF or bare
/// LF line ends, folded fields, content types with their parameters, multipart bodies, base64 and quoted-printable.
/// Nothing is copied until a value is kept.
/// </summary>
internal static class MimeScan
{
    /// <summary>A header looked at for its fields is at most this long; what follows is treated as body.</summary>
    public const int MaxHeaderLength = 256 * 1024;

    /// <summary>A field value kept is at most this long (its start is kept).</summary>
    public const int MaxValueLength = 16 * 1024;

    /// <summary>At most this many fields of one header are read.</summary>
    public const int MaxFields = 2000;

    /// <summary>Where the body starts: after the blank line that ends the header, or the end when there is none.</summary>
    public static int BodyStart(ReadOnlySpan<byte> message, out int headerLength)
    {
        if (message.Length > 0 && message[0] == '\n')
        {
            headerLength = 0;
            return 1;
        }

        if (message.Length > 1 && message[0] == '\r' && message[1] == '\n')
        {
            headerLength = 0;
            return 2;
        }

        var limit = Math.Min(message.Length, MaxHeaderLength);
        var position = 0;
        while (position < limit)
        {
            var lf = message[position..limit].IndexOf((byte)'\n');
            if (lf < 0)
            {
                break;
            }

            var next = position + lf + 1;
            if (next < message.Length && message[next] == '\n')
            {
                headerLength = next;
                return next + 1;
            }

            if (next + 1 < message.Length && message[next] == '\r' && message[next + 1] == '\n')
            {
                headerLength = next;
                return next + 2;
            }

            position = next;
        }

        // No blank line: all that was looked at is header, and there is no body to read.
        headerLength = limit;
        return message.Length;
    }

    /// <summary>Reads the next field of a header: its name and its raw value (folded lines included, the final line end not).</summary>
    public static bool NextField(ReadOnlySpan<byte> header, scoped ref int position, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (position < header.Length)
        {
            var start = position;
            var end = start;
            // The field runs to the first line end not followed by a space or tab.
            while (true)
            {
                var lf = header[end..].IndexOf((byte)'\n');
                if (lf < 0)
                {
                    end = header.Length;
                    position = header.Length;
                    break;
                }

                end += lf + 1;
                if (end < header.Length && (header[end] == ' ' || header[end] == '\t'))
                {
                    continue;
                }

                position = end;
                break;
            }

            var line = header[start..end];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].IndexOfAny((byte)' ', (byte)'\t', (byte)'\n') >= 0)
            {
                continue; // not a field (a stray line): skipped
            }

            name = line[..colon];
            value = TrimLineEnd(line[(colon + 1)..]);
            return true;
        }

        name = default;
        value = default;
        return false;
    }

    /// <summary>Finds a field's raw value by name (the first one), or an empty span.</summary>
    public static bool TryGetField(ReadOnlySpan<byte> header, ReadOnlySpan<byte> fieldName, out ReadOnlySpan<byte> value)
    {
        var position = 0;
        var count = 0;
        while (count++ < MaxFields && NextField(header, ref position, out var name, out value))
        {
            if (Ascii.EqualsIgnoreCase(name, fieldName))
            {
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>A field's value unfolded (each fold one space), trimmed, as text (UTF-8, invalid octets replaced); null when empty.</summary>
    public static string? Text(ReadOnlySpan<byte> value)
    {
        value = Trim(value);
        if (value.IsEmpty)
        {
            return null;
        }

        if (value.Length > MaxValueLength)
        {
            value = value[..MaxValueLength];
        }

        if (value.IndexOfAny((byte)'\r', (byte)'\n') < 0)
        {
            return Encoding.UTF8.GetString(value);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(value.Length);
        try
        {
            // A fold and the white space around it become one space (Postfix folds with four).
            var n = 0;
            for (var i = 0; i < value.Length; i++)
            {
                var b = value[i];
                if (b is (byte)'\r' or (byte)'\n')
                {
                    while (i + 1 < value.Length && IsWhite(value[i + 1]))
                    {
                        i++;
                    }

                    while (n > 0 && buffer[n - 1] is (byte)' ' or (byte)'\t')
                    {
                        n--;
                    }

                    buffer[n++] = (byte)' ';
                    continue;
                }

                buffer[n++] = b;
            }

            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length && IsWhite(value[start]))
        {
            start++;
        }

        var end = value.Length;
        while (end > start && IsWhite(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }

    private static bool IsWhite(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    public static ReadOnlySpan<byte> TrimLineEnd(ReadOnlySpan<byte> value)
    {
        if (value.Length > 0 && value[^1] == '\n')
        {
            value = value[..^1];
        }

        if (value.Length > 0 && value[^1] == '\r')
        {
            value = value[..^1];
        }

        return value;
    }

    /// <summary>The media type of a Content-Type value (<c>type/subtype</c>, before any parameter), trimmed; text/plain when absent.</summary>
    public static ReadOnlySpan<byte> MediaType(ReadOnlySpan<byte> contentType)
    {
        var semicolon = contentType.IndexOf((byte)';');
        var type = Trim(semicolon < 0 ? contentType : contentType[..semicolon]);
        return type.IsEmpty ? "text/plain"u8 : type;
    }

    /// <summary>A parameter of a Content-Type value (quoted or not), or an empty span.</summary>
    public static ReadOnlySpan<byte> Parameter(ReadOnlySpan<byte> contentType, ReadOnlySpan<byte> parameterName)
    {
        var i = contentType.IndexOf((byte)';');
        if (i < 0)
        {
            return default;
        }

        i++;
        while (i < contentType.Length)
        {
            var nameStart = i;
            while (i < contentType.Length && contentType[i] != '=' && contentType[i] != ';')
            {
                i++;
            }

            var name = Trim(contentType[nameStart..i]);
            if (i >= contentType.Length)
            {
                break;
            }

            if (contentType[i] == ';')
            {
                i++;
                continue;
            }

            i++; // '='
            while (i < contentType.Length && IsWhite(contentType[i]))
            {
                i++;
            }

            ReadOnlySpan<byte> value;
            if (i < contentType.Length && contentType[i] == '"')
            {
                var start = ++i;
                while (i < contentType.Length && contentType[i] != '"')
                {
                    i += contentType[i] == '\\' ? 2 : 1;
                }

                value = contentType[start..Math.Min(i, contentType.Length)];
                while (i < contentType.Length && contentType[i] != ';')
                {
                    i++;
                }
            }
            else
            {
                var start = i;
                while (i < contentType.Length && contentType[i] != ';')
                {
                    i++;
                }

                value = Trim(contentType[start..i]);
            }

            if (Ascii.EqualsIgnoreCase(name, parameterName))
            {
                return value;
            }

            i++;
        }

        return default;
    }

    /// <summary>
    /// The next body part of a multipart body: the octets between a delimiter line <c>--boundary</c> and the line end
    /// before the next one. False at the closing delimiter or the end.
    /// </summary>
    public static bool NextPart(ReadOnlySpan<byte> body, ReadOnlySpan<byte> delimiter, scoped ref int position, out ReadOnlySpan<byte> part)
    {
        part = default;
        if (position < 0)
        {
            return false;
        }

        var start = FindDelimiter(body, delimiter, position);
        if (start < 0)
        {
            position = -1;
            return false;
        }

        var afterDelimiter = start + delimiter.Length;
        if (afterDelimiter + 1 < body.Length && body[afterDelimiter] == '-' && body[afterDelimiter + 1] == '-')
        {
            position = -1;
            return false;
        }

        var lf = body[afterDelimiter..].IndexOf((byte)'\n');
        if (lf < 0)
        {
            position = -1;
            return false;
        }

        var contentStart = afterDelimiter + lf + 1;
        var next = FindDelimiter(body, delimiter, contentStart);
        var contentEnd = next < 0 ? body.Length : next;
        position = next < 0 ? -1 : next;
        part = TrimLineEnd(body[contentStart..contentEnd]);
        return true;
    }

    private static int FindDelimiter(ReadOnlySpan<byte> body, ReadOnlySpan<byte> delimiter, int from)
    {
        while (from < body.Length)
        {
            var i = body[from..].IndexOf(delimiter);
            if (i < 0)
            {
                return -1;
            }

            var at = from + i;
            var end = at + delimiter.Length;
            var atLineStart = at == 0 || body[at - 1] == '\n';
            var endsWell = end >= body.Length || body[end] is (byte)'\r' or (byte)'\n' or (byte)' ' or (byte)'\t' or (byte)'-';
            if (atLineStart && endsWell)
            {
                return at;
            }

            from = at + 1;
        }

        return -1;
    }

    /// <summary>A part's content decoded from its Content-Transfer-Encoding (base64, quoted-printable; anything else as it is).</summary>
    public static byte[]? Decode(ReadOnlySpan<byte> content, ReadOnlySpan<byte> transferEncoding, out ReadOnlySpan<byte> plain)
    {
        var encoding = Trim(transferEncoding);
        if (Ascii.EqualsIgnoreCase(encoding, "base64"u8))
        {
            var output = new byte[Base64.GetMaxDecodedFromUtf8Length(content.Length)];
            var n = 0;
            var quad = 0;
            var bits = 0;
            foreach (var b in content)
            {
                var v = b switch
                {
                    >= (byte)'A' and <= (byte)'Z' => b - 'A',
                    >= (byte)'a' and <= (byte)'z' => b - 'a' + 26,
                    >= (byte)'0' and <= (byte)'9' => b - '0' + 52,
                    (byte)'+' => 62,
                    (byte)'/' => 63,
                    _ => -1,
                };
                if (v < 0)
                {
                    continue; // line ends, padding and stray octets
                }

                bits = (bits << 6) | v;
                if (++quad == 4)
                {
                    output[n++] = (byte)(bits >> 16);
                    output[n++] = (byte)(bits >> 8);
                    output[n++] = (byte)bits;
                    quad = 0;
                    bits = 0;
                }
            }

            if (quad == 2)
            {
                output[n++] = (byte)(bits >> 4);
            }
            else if (quad == 3)
            {
                output[n++] = (byte)(bits >> 10);
                output[n++] = (byte)(bits >> 2);
            }

            plain = output.AsSpan(0, n);
            return output;
        }

        if (Ascii.EqualsIgnoreCase(encoding, "quoted-printable"u8))
        {
            var output = new byte[content.Length];
            var n = 0;
            for (var i = 0; i < content.Length; i++)
            {
                var b = content[i];
                if (b == '=' && i + 1 < content.Length)
                {
                    if (content[i + 1] == '\n')
                    {
                        i++;
                        continue;
                    }

                    if (content[i + 1] == '\r' && i + 2 < content.Length && content[i + 2] == '\n')
                    {
                        i += 2;
                        continue;
                    }

                    if (i + 2 < content.Length && IsHex(content[i + 1]) && IsHex(content[i + 2]))
                    {
                        output[n++] = (byte)((Hex(content[i + 1]) << 4) | Hex(content[i + 2]));
                        i += 2;
                        continue;
                    }
                }

                output[n++] = b;
            }

            plain = output.AsSpan(0, n);
            return output;
        }

        plain = content;
        return null;
    }

    private static bool IsHex(byte b) => (uint)(b - '0') <= 9 || (uint)((b | 0x20) - 'a') <= 5;

    private static int Hex(byte b) => (uint)(b - '0') <= 9 ? b - '0' : (b | 0x20) - 'a' + 10;

    /// <summary>Text in the charset a part names: UTF-8 (and US-ASCII) unless it says ISO-8859-1 or windows-1252.</summary>
    public static string Decode(ReadOnlySpan<byte> content, ReadOnlySpan<byte> charset)
    {
        if (Ascii.EqualsIgnoreCase(charset, "iso-8859-1"u8) || Ascii.EqualsIgnoreCase(charset, "latin1"u8) || Ascii.EqualsIgnoreCase(charset, "windows-1252"u8))
        {
            return Encoding.Latin1.GetString(content);
        }

        return Encoding.UTF8.GetString(content);
    }

    /// <summary>The address in a mailbox field: what is between angle brackets, or the value itself; null when none.</summary>
    public static string? Address(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var open = value.LastIndexOf('<');
        if (open >= 0)
        {
            var close = value.IndexOf('>', open);
            var inner = close < 0 ? value[(open + 1)..] : value[(open + 1)..close];
            inner = inner.Trim();
            return inner.Length == 0 ? null : inner;
        }

        var comma = value.IndexOf(',');
        var address = (comma < 0 ? value : value[..comma]).Trim();
        return address.Length == 0 ? null : address;
    }
}
