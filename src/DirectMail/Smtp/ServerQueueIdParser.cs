using System;

namespace DirectMail.Smtp;

/// <summary>
/// The receiving server's own queue id, read from its final 250 reply to the end of a message: the id its logs know
/// the message by, which an operator quotes to the relay's or the MX's administrator. Servers put it in their own
/// words, so each known form is read (RFC 5321 gives the text after the code no structure):
/// Postfix <c>queued as 4Y2bQx0Lz9z9</c>; Exim <c>OK id=1tAbCd-000Xyz-2Q</c>; Microsoft 365 and Exchange
/// <c>[InternalId=12345, ...]</c>; Gmail <c>OK  1732617600 a1si12345 - gsmtp</c>; Sendmail
/// <c>4B1H2Kx0012345 Message accepted for delivery</c>; qmail <c>ok 1732617600 qp 12345</c>; Haraka and others
/// <c>Message Queued (ID)</c>. Anything else gives null: a guess would send the operator after the wrong message.
/// </summary>
internal static class ServerQueueIdParser
{
    /// <summary>The id named by a positive reply, or null.</summary>
    public static string? From(SmtpReply? reply)
    {
        if (reply is null || !reply.IsPositiveCompletion || reply.IsSynthetic)
        {
            return null;
        }

        foreach (var line in reply.Lines)
        {
            if (From(line.AsSpan()) is { } id)
            {
                return id;
            }
        }

        return null;
    }

    private static string? From(ReadOnlySpan<char> line)
    {
        if (After(line, "queued as ") is { } postfix)
        {
            return postfix;
        }

        if (After(line, "InternalId=") is { } exchange)
        {
            return exchange;
        }

        if (After(line, " id=") is { } exim)
        {
            return exim;
        }

        if (After(line, " qp ") is { } qmail)
        {
            return qmail;
        }

        var gsmtp = line.IndexOf(" - gsmtp", StringComparison.Ordinal);
        if (gsmtp > 0)
        {
            // "OK  1732617600 a1si12345 - gsmtp": the word before the marker.
            var before = line[..gsmtp].TrimEnd();
            var space = before.LastIndexOf(' ');
            return space >= 0 && space < before.Length - 1 ? Token(before[(space + 1)..]) : null;
        }

        var accepted = line.IndexOf(" Message accepted for delivery", StringComparison.OrdinalIgnoreCase);
        if (accepted > 0)
        {
            // Sendmail: "2.0.0 4B1H2Kx0012345 Message accepted for delivery": the word before the phrase.
            var before = line[..accepted].TrimEnd();
            var space = before.LastIndexOf(' ');
            return Token(space >= 0 ? before[(space + 1)..] : before);
        }

        var queued = line.IndexOf("Queued (", StringComparison.OrdinalIgnoreCase);
        if (queued >= 0)
        {
            var rest = line[(queued + "Queued (".Length)..];
            var close = rest.IndexOf(')');
            return close > 0 ? Token(rest[..close]) : null;
        }

        return null;
    }

    /// <summary>The token right after <paramref name="marker"/> (up to a space, comma, ']' or ')'), or null.</summary>
    private static string? After(ReadOnlySpan<char> line, string marker)
    {
        var at = line.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }

        var rest = line[(at + marker.Length)..];
        var end = rest.IndexOfAny(" ,])\t");
        return Token(end < 0 ? rest : rest[..end]);
    }

    /// <summary>
    /// A queue id is printable ASCII without spaces, 1 to 128 characters; anything else is not taken (a reply is
    /// remote input, and the id goes into logs and reports).
    /// </summary>
    private static string? Token(ReadOnlySpan<char> token)
    {
        token = token.Trim().TrimEnd('.');
        if (token.IsEmpty || token.Length > 128)
        {
            return null;
        }

        foreach (var c in token)
        {
            if (c is <= ' ' or > '~')
            {
                return null;
            }
        }

        return token.ToString();
    }
}
