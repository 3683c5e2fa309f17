using System;
using System.Collections.Generic;
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
    /// What the message's From says (see <see cref="DkimFromAddress"/>): its single mailbox's domain, A-label and lower
    /// case, or no From, or not one mailbox (two From fields count as not one mailbox).
    /// </summary>
    public static DkimFromKind From(DkimMessageHasher message, out string domain)
    {
        domain = string.Empty;
        var kind = DkimFromKind.None;
        for (var i = 0; i < message.FieldCount; i++)
        {
            if (!Ascii.EqualsIgnoreCase(message.GetFieldName(i), "from"u8))
            {
                continue;
            }

            if (kind != DkimFromKind.None)
            {
                domain = string.Empty;
                return DkimFromKind.NotOneMailbox;
            }

            var value = message.GetField(i);
            kind = DkimFromAddress.Parse(value[(value.IndexOf((byte)':') + 1)..], out domain);
        }

        return kind;
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
