using System;
using System.Globalization;
using System.Text;

namespace DirectMail.Security.Dane;

/// <summary>
/// One TLSA record's certificate association (RFC 6698 section 2.1): usage, selector, matching type and data, and
/// whether SMTP may use it (RFC 7672 section 3.1: only DANE-TA(2) and DANE-EE(3); selectors 0 and 1; matching types
/// 0, 1 and 2 with data of the right length). Immutable.
/// </summary>
internal sealed class TlsaAssociation
{
    /// <summary>Usage DANE-TA(2): the data names a trust anchor in the server's chain.</summary>
    public const byte DaneTa = 2;

    /// <summary>Usage DANE-EE(3): the data names the server's own certificate or key.</summary>
    public const byte DaneEe = 3;

    /// <summary>Selector 0: the whole certificate (its DER encoding).</summary>
    public const byte FullCertificate = 0;

    /// <summary>Selector 1: the certificate's SubjectPublicKeyInfo (its DER encoding).</summary>
    public const byte SubjectPublicKeyInfo = 1;

    /// <summary>Matching type 0: the selected content itself.</summary>
    public const byte Exact = 0;

    /// <summary>Matching type 1: its SHA-256 digest.</summary>
    public const byte Sha256 = 1;

    /// <summary>Matching type 2: its SHA-512 digest.</summary>
    public const byte Sha512 = 2;

    public TlsaAssociation(byte usage, byte selector, byte matchingType, byte[] data)
        : this(usage, selector, matchingType, data, supersededBy: null)
    {
    }

    private TlsaAssociation(byte usage, byte selector, byte matchingType, byte[] data, string? supersededBy)
    {
        ArgumentNullException.ThrowIfNull(data);
        Usage = usage;
        Selector = selector;
        MatchingType = matchingType;
        Data = data;
        UnusableReason = supersededBy ?? Unusable(usage, selector, matchingType, data.Length);
    }

    public byte Usage { get; }

    public byte Selector { get; }

    public byte MatchingType { get; }

    /// <summary>The certificate association data (a digest, or the DER content itself for matching type 0).</summary>
    public byte[] Data { get; }

    /// <summary>Why SMTP may not use this record (a sentence naming the RFC), or null when it may.</summary>
    public string? UnusableReason { get; }

    public bool IsUsable => UnusableReason is null;

    /// <summary>This record, unusable because a stronger digest is published beside it (RFC 7671 section 9).</summary>
    internal TlsaAssociation Superseded() => new(Usage, Selector, MatchingType, Data,
        $"a SHA-512 record with the same usage and selector is published, and digest algorithm agility (RFC 7671 section 9) uses only the strongest");

    /// <summary>The record in presentation form: <c>3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(8 + (Data.Length * 2));
        text.Append(Usage.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(Selector.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(MatchingType.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(Convert.ToHexString(Data));
        return text.ToString();
    }

    private static string? Unusable(byte usage, byte selector, byte matchingType, int length)
    {
        if (usage is 0 or 1)
        {
            // RFC 7672 section 3.1.3: MX hosts are not named by PKIX certificates an SMTP client could check, so
            // PKIX-TA(0) and PKIX-EE(1) are unusable and a client treats them as if they were absent.
            return $"usage {usage} ({(usage == 0 ? "PKIX-TA" : "PKIX-EE")}) is unusable for SMTP (RFC 7672 section 3.1.3)";
        }

        if (usage is not (DaneTa or DaneEe))
        {
            return $"usage {usage} is not defined (RFC 6698 section 2.1.1, RFC 7218)";
        }

        if (selector is not (FullCertificate or SubjectPublicKeyInfo))
        {
            return $"selector {selector} is not defined (RFC 6698 section 2.1.2)";
        }

        return matchingType switch
        {
            Exact when length == 0 => "matching type 0 with no data",
            Exact => null,
            Sha256 when length != 32 => $"a SHA-256 digest is 32 bytes, and this one is {length} (RFC 7671 section 4.1: malformed, unusable)",
            Sha512 when length != 64 => $"a SHA-512 digest is 64 bytes, and this one is {length} (RFC 7671 section 4.1: malformed, unusable)",
            Sha256 or Sha512 => null,
            _ => $"matching type {matchingType} is not defined (RFC 6698 section 2.1.3)",
        };
    }
}
