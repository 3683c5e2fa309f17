using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using DnsClient;
using DnsClient.Protocol.Options;

namespace DirectMail.Dns;

/// <summary>
/// An Extended DNS Error (RFC 8914): the EDNS option (code 15) a resolver adds to an answer, SERVFAIL above all, to say
/// why it failed: a DNSSEC-bogus answer (codes 1, 2, 5–12) is told apart from an authority that did not answer (22,
/// 23) or a policy block. Read from the OPT record of the answer (unbound adds it with <c>ede: yes</c>, as the tests run it).
/// </summary>
/// <param name="InfoCode">The INFO-CODE (RFC 8914 section 4; the IANA registry).</param>
/// <param name="ExtraText">The EXTRA-TEXT the resolver added (UTF-8, for people), empty when there is none.</param>
internal readonly record struct ExtendedDnsError(ushort InfoCode, string ExtraText)
{
    /// <summary>The EDNS option code of Extended DNS Errors (RFC 8914 section 2).</summary>
    public const ushort OptionCode = 15;

    /// <summary>The most EXTRA-TEXT kept: it is for a log line and a reply text, not a document.</summary>
    private const int MaxExtraText = 200;

    /// <summary>The code's name in the registry (RFC 8914 section 4), or "info-code N" for one it does not name.</summary>
    public string Name => InfoCode switch
    {
        0 => "Other Error",
        1 => "Unsupported DNSKEY Algorithm",
        2 => "Unsupported DS Digest Type",
        3 => "Stale Answer",
        4 => "Forged Answer",
        5 => "DNSSEC Indeterminate",
        6 => "DNSSEC Bogus",
        7 => "Signature Expired",
        8 => "Signature Not Yet Valid",
        9 => "DNSKEY Missing",
        10 => "RRSIGs Missing",
        11 => "No Zone Key Bit Set",
        12 => "NSEC Missing",
        13 => "Cached Error",
        14 => "Not Ready",
        15 => "Blocked",
        16 => "Censored",
        17 => "Filtered",
        18 => "Prohibited",
        19 => "Stale NXDomain Answer",
        20 => "Not Authoritative",
        21 => "Not Supported",
        22 => "No Reachable Authority",
        23 => "Network Error",
        24 => "Invalid Data",
        _ => "info-code " + InfoCode.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The answer failed DNSSEC validation (RFC 8914 codes 1, 2 and 5–12: an unsupported algorithm or digest, an
    /// indeterminate or bogus answer, signatures expired or not yet valid, a key, signature or denial missing).
    /// </summary>
    public bool IsDnssecFailure => InfoCode is 1 or 2 or (>= 5 and <= 12);

    /// <summary>"Extended DNS Error 6 (DNSSEC Bogus): the text", as it goes into a reason.</summary>
    public override string ToString()
    {
        var code = InfoCode.ToString(CultureInfo.InvariantCulture);
        return ExtraText.Length == 0 ? $"Extended DNS Error {code} ({Name})" : $"Extended DNS Error {code} ({Name}): {ExtraText}";
    }

    /// <summary>The first Extended DNS Error in <paramref name="response"/>'s OPT record, or null when it carries none.</summary>
    public static ExtendedDnsError? From(IDnsQueryResponse response)
    {
        foreach (var record in response.Additionals)
        {
            if (record is OptRecord { Data: { } data } && Parse(data) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>
    /// The first Extended DNS Error among the EDNS options in <paramref name="options"/> (the OPT record's RDATA:
    /// OPTION-CODE, OPTION-LENGTH, OPTION-DATA, repeated; RFC 6891 section 6.1.2). Null when there is none; an option
    /// that runs past the end, or an EDE option shorter than its INFO-CODE, ends the search (a damaged record is not
    /// a reason).
    /// </summary>
    public static ExtendedDnsError? Parse(ReadOnlySpan<byte> options)
    {
        while (options.Length >= 4)
        {
            var code = BinaryPrimitives.ReadUInt16BigEndian(options);
            var length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            if (options.Length - 4 < length)
            {
                return null;
            }

            var data = options.Slice(4, length);
            if (code == OptionCode)
            {
                if (data.Length < 2)
                {
                    return null;
                }

                return new ExtendedDnsError(BinaryPrimitives.ReadUInt16BigEndian(data), Text(data[2..]));
            }

            options = options[(4 + length)..];
        }

        return null;
    }

    /// <summary>
    /// EXTRA-TEXT as printable text: UTF-8 (invalid sequences replaced), a trailing NUL some resolvers send dropped
    /// (RFC 8914 section 2 says it should not be there), control characters made spaces so that the text cannot break
    /// a log line or a reply it is put in, at most <see cref="MaxExtraText"/> characters.
    /// </summary>
    private static string Text(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return string.Empty;
        }

        var text = Encoding.UTF8.GetString(bytes).TrimEnd('\0');
        var builder = new StringBuilder(Math.Min(text.Length, MaxExtraText));
        foreach (var c in text)
        {
            if (builder.Length == MaxExtraText)
            {
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString().Trim();
    }
}
