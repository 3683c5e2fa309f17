using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace DirectMail.Dkim;

/// <summary>
/// The signers a signed content may use: which header fields pass 1 keeps (those any of them signs), how long the
/// signature fields may get (for SIZE), and, at the end of the header section, which of them sign this message.
/// </summary>
internal abstract class DkimSignerSet
{
    private readonly byte[][] _names;

    protected DkimSignerSet(IEnumerable<DkimSigner> signers)
    {
        var names = new List<byte[]>();
        foreach (var signer in signers)
        {
            foreach (var name in signer.HeaderNames)
            {
                if (!Contains(names, name))
                {
                    names.Add(name);
                }
            }
        }

        _names = names.ToArray();
    }

    /// <summary>Whether a header field of this name may be signed, so must be kept.</summary>
    public bool IsSigned(ReadOnlySpan<byte> name)
    {
        foreach (var n in _names)
        {
            if (Ascii.EqualsIgnoreCase(name, n))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The most octets the signature fields of one message take (for SIZE).</summary>
    public abstract int MaxHeaderLength { get; }

    /// <summary>Chooses the signers for a message once its header section is known; empty to send it unsigned.</summary>
    public abstract DkimSigner[] Choose(DkimMessageHasher message, string? envelopeDomain, out string fromDomain);

    /// <summary>
    /// The domain of the (first) From field's address, A-label and lower case; empty when there is none. For
    /// <c>Name &lt;user@domain&gt;</c> the address in angle brackets is taken, otherwise the last <c>@</c>.
    /// </summary>
    public static string FromDomain(DkimMessageHasher message)
    {
        for (var i = 0; i < message.FieldCount; i++)
        {
            if (!Ascii.EqualsIgnoreCase(message.GetFieldName(i), "from"u8))
            {
                continue;
            }

            var value = message.GetField(i);
            value = value[(value.IndexOf((byte)':') + 1)..];
            var open = value.LastIndexOf((byte)'<');
            if (open >= 0)
            {
                value = value[(open + 1)..];
                var close = value.IndexOf((byte)'>');
                if (close >= 0)
                {
                    value = value[..close];
                }
            }

            var at = value.LastIndexOf((byte)'@');
            if (at < 0)
            {
                return string.Empty;
            }

            var domain = value[(at + 1)..];
            var end = 0;
            while (end < domain.Length && (domain[end] >= 0x80 || char.IsAsciiLetterOrDigit((char)domain[end]) || domain[end] is (byte)'-' or (byte)'.'))
            {
                end++;
            }

            var text = Encoding.UTF8.GetString(domain[..end]).TrimEnd('.');
            try
            {
                return text.Length == 0 ? string.Empty : new IdnMapping().GetAscii(text).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return text.ToLowerInvariant();
            }
        }

        return string.Empty;
    }

    private static bool Contains(List<byte[]> names, byte[] name)
    {
        foreach (var n in names)
        {
            if (n.AsSpan().SequenceEqual(name))
            {
                return true;
            }
        }

        return false;
    }
}
