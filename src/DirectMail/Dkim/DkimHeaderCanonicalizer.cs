using System;
using System.Buffers;
using System.Text;

namespace DirectMail.Dkim;

/// <summary>
/// One header field canonicalised for the DKIM header hash (RFC 6376 section 3.4.1 simple, 3.4.2 relaxed), written
/// into the signer's buffer. Kept apart from <see cref="DkimSigner"/> so that mutation testing can take it whole
/// (written with plain comparisons and the out value read on its own line, which Stryker.NET can compile a mutant of).
/// </summary>
internal static class DkimHeaderCanonicalizer
{
    /// <summary>Writes one field canonicalised into <paramref name="destination"/> (room for the field and a CRLF) and returns the octets written.</summary>
    public static int Append(Span<byte> destination, ReadOnlySpan<byte> field, bool relaxed, bool lineEnd)
    {
        if (!relaxed)
        {
            field.CopyTo(destination);
            if (!lineEnd)
            {
                return field.Length;
            }

            "\r\n"u8.CopyTo(destination[field.Length..]);
            return field.Length + 2;
        }

        // Relaxed (RFC 6376 section 3.4.2): name lower case without trailing white space, value unfolded, white space
        // runs made one space, none around the colon or at the end.
        var colon = field.IndexOf((byte)':');
        var lowered = Ascii.ToLower(field[..colon].TrimEnd(" \t"u8), destination, out var nameLength);
        var length = lowered == OperationStatus.Done ? nameLength : 0;
        destination[length++] = (byte)':';
        var pendingSpace = false;
        var started = false;
        foreach (var b in field[(colon + 1)..])
        {
            if (b == (byte)'\r' || b == (byte)'\n')
            {
                continue;
            }

            if (b == (byte)' ' || b == (byte)'\t')
            {
                pendingSpace = started;
                continue;
            }

            if (pendingSpace)
            {
                destination[length++] = (byte)' ';
                pendingSpace = false;
            }

            destination[length++] = b;
            started = true;
        }

        if (lineEnd)
        {
            destination[length++] = (byte)'\r';
            destination[length++] = (byte)'\n';
        }

        return length;
    }
}
