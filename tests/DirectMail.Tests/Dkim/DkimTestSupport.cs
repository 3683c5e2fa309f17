using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Mime;
using DirectMail.Smtp;

namespace DirectMail.Tests.Dkim;

internal static class DkimTestSupport
{
    public static readonly SmtpCapabilities EightBit = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME", "SMTPUTF8" }));

    public static readonly SmtpCapabilities SevenBit = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "PIPELINING" }));

    /// <summary>Writes the content as the session would put it on the wire (CRLF line ends, a final CRLF), before dot-stuffing.</summary>
    public static async Task<byte[]> WireAsync(SmtpContent content, SmtpCapabilities capabilities)
    {
        using var output = new MemoryStream();
        await content.WriteToAsync(output, capabilities, CancellationToken.None);
        return ToWire(output.ToArray());
    }

    public static byte[] ToWire(byte[] raw)
    {
        var encoder = new SmtpDataEncoder(dotStuffing: false, sevenBitOnly: false);
        var output = new byte[(raw.Length * 2) + 8];
        var status = encoder.Encode(raw, output, out var consumed, out var written);
        Assert.Equal(SmtpEncodeStatus.Done, status);
        Assert.Equal(raw.Length, consumed);
        written += encoder.Complete(output.AsSpan(written));
        return output.AsSpan(0, written).ToArray();
    }

    /// <summary>The DKIM-Signature fields at the top of a signed message, unfolded.</summary>
    public static string[] Signatures(byte[] wire)
    {
        var text = Encoding.UTF8.GetString(wire);
        var header = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        var fields = header.Replace("\r\n\t", "\t", StringComparison.Ordinal).Replace("\r\n ", " ", StringComparison.Ordinal).Split("\r\n");
        return Array.FindAll(fields, f => f.StartsWith("DKIM-Signature:", StringComparison.Ordinal));
    }

    /// <summary>
    /// Replaces the first occurrence of <paramref name="find"/> after the signature fields (never inside one: a change to
    /// the signature itself would break it for another reason than the one a test means).
    /// </summary>
    public static byte[] Tamper(byte[] wire, string find, string replace)
    {
        var text = Encoding.UTF8.GetString(wire);
        var start = text.LastIndexOf("DKIM-Signature:", StringComparison.Ordinal);
        Assert.True(start >= 0, "the message is not signed");
        // The signature field ends at the first line break not followed by folding white space.
        var end = text.IndexOf("\r\n", start, StringComparison.Ordinal);
        while (end >= 0 && end + 2 < text.Length && text[end + 2] is ' ' or '\t')
        {
            end = text.IndexOf("\r\n", end + 2, StringComparison.Ordinal);
        }

        Assert.True(end >= 0, "the signature field does not end");
        var index = text.IndexOf(find, end, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{find}' is not in the message after its signature.");
        return Encoding.UTF8.GetBytes(string.Concat(text.AsSpan(0, index), replace, text.AsSpan(index + find.Length)));
    }

    /// <summary>The tag names of an unfolded DKIM-Signature field (<c>v</c>, <c>a</c>, ...), white space around them ignored (RFC 6376 section 3.2).</summary>
    public static string[] TagNames(string signature)
    {
        var value = signature[(signature.IndexOf(':', StringComparison.Ordinal) + 1)..];
        var tags = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return Array.ConvertAll(tags, t => t[..t.IndexOf('=', StringComparison.Ordinal)].Trim());
    }

    public static EmailMessage Message(string subject, string text, string? html = null)
    {
        var message = new EmailMessage
        {
            From = new EmailAddress("sender@dkim.test", "Sender"),
            Subject = subject,
            TextBody = text,
            HtmlBody = html,
            Date = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero),
        };
        message.To.Add("rcpt@example.test", "Recipient");
        return message;
    }
}
