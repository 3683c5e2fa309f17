using System;
using System.Collections.Generic;
using System.Globalization;

namespace DirectMail.Smtp;

/// <summary>
/// What a server announced in its reply to EHLO (RFC 5321 section 4.1.1.1): the extensions DirectMail knows as
/// flags, the SIZE limit, and every keyword with its parameters, unknown ones included.
/// </summary>
public sealed class SmtpCapabilities
{
    private readonly Dictionary<string, string> _keywords;

    /// <summary>What a server that answered HELO instead of EHLO supports: nothing beyond RFC 5321's minimum.</summary>
    public static SmtpCapabilities Minimal { get; } = new(string.Empty, SmtpExtensions.None, null, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), isExtended: false);

    private SmtpCapabilities(string serverDomain, SmtpExtensions extensions, long? maxSize, Dictionary<string, string> keywords, bool isExtended)
    {
        ServerDomain = serverDomain;
        Extensions = extensions;
        MaxMessageSize = maxSize;
        _keywords = keywords;
        IsExtended = isExtended;
    }

    /// <summary>The name the server gave for itself on the first line of its EHLO or HELO reply.</summary>
    public string ServerDomain { get; }

    /// <summary>The known extensions the server announced.</summary>
    public SmtpExtensions Extensions { get; }

    /// <summary>
    /// The largest message the server takes, in octets, from <c>SIZE n</c>; null when it announced no SIZE or
    /// <c>SIZE 0</c> (no fixed limit, RFC 1870 section 4).
    /// </summary>
    public long? MaxMessageSize { get; }

    /// <summary>True after EHLO, false when the server only understood HELO.</summary>
    public bool IsExtended { get; }

    /// <summary>Every keyword the server announced (upper case) with its parameters as sent (empty when none), unknown extensions included.</summary>
    public IReadOnlyDictionary<string, string> Keywords => _keywords;

    /// <summary>True when the server announced every extension in <paramref name="extensions"/>.</summary>
    public bool Supports(SmtpExtensions extensions) => (Extensions & extensions) == extensions;

    /// <summary>Reads the capabilities from a positive reply to EHLO.</summary>
    /// <param name="ehloReply">The server's 250 reply to EHLO.</param>
    internal static SmtpCapabilities Parse(SmtpReply ehloReply)
    {
        ArgumentNullException.ThrowIfNull(ehloReply);
        return Parse(ehloReply.Lines, isExtended: true);
    }

    internal static SmtpCapabilities FromHelo(SmtpReply heloReply)
    {
        return Parse(heloReply.Lines, isExtended: false);
    }

    private static SmtpCapabilities Parse(IReadOnlyList<string> lines, bool isExtended)
    {
        var keywords = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var extensions = SmtpExtensions.None;
        long? maxSize = null;

        var first = lines.Count > 0 ? lines[0].AsSpan().Trim() : default;
        var space = first.IndexOf(' ');
        var serverDomain = (space < 0 ? first : first[..space]).ToString();

        if (!isExtended)
        {
            return new SmtpCapabilities(serverDomain, SmtpExtensions.None, null, keywords, isExtended: false);
        }

        // The first line is the greeting ("mx.example.com Hello ..."); each further line is one ehlo-line:
        // keyword followed by optional parameters separated by spaces (RFC 5321 section 4.1.1.1).
        for (var i = 1; i < lines.Count; i++)
        {
            var line = lines[i].AsSpan().Trim();
            if (line.IsEmpty)
            {
                continue;
            }

            var separator = line.IndexOfAny(' ', '=');
            var keyword = (separator < 0 ? line : line[..separator]).ToString().ToUpperInvariant();
            var parameters = separator < 0 ? string.Empty : line[(separator + 1)..].Trim().ToString();

            // Some servers announce an extension twice ("AUTH LOGIN" and the pre-standard "AUTH=LOGIN"); keep the first.
            keywords.TryAdd(keyword, parameters);
            switch (keyword)
            {
                case "PIPELINING":
                    extensions |= SmtpExtensions.Pipelining;
                    break;
                case "SIZE":
                    extensions |= SmtpExtensions.Size;
                    if (long.TryParse(parameters, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0)
                    {
                        maxSize = size;
                    }

                    break;
                case "8BITMIME":
                    extensions |= SmtpExtensions.EightBitMime;
                    break;
                case "SMTPUTF8":
                    extensions |= SmtpExtensions.SmtpUtf8;
                    break;
                case "ENHANCEDSTATUSCODES":
                    extensions |= SmtpExtensions.EnhancedStatusCodes;
                    break;
                case "STARTTLS":
                    extensions |= SmtpExtensions.StartTls;
                    break;
                case "CHUNKING":
                    extensions |= SmtpExtensions.Chunking;
                    break;
                case "DSN":
                    extensions |= SmtpExtensions.Dsn;
                    break;
                case "BINARYMIME":
                    extensions |= SmtpExtensions.BinaryMime;
                    break;
                case "REQUIRETLS":
                    extensions |= SmtpExtensions.RequireTls;
                    break;
            }
        }

        return new SmtpCapabilities(serverDomain, extensions, maxSize, keywords, isExtended: true);
    }
}
