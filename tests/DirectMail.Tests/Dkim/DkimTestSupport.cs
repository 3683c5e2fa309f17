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

    /// <summary>Replaces the first occurrence of <paramref name="find"/> after the signature fields.</summary>
    public static byte[] Tamper(byte[] wire, string find, string replace)
    {
        var text = Encoding.UTF8.GetString(wire);
        var start = text.LastIndexOf("DKIM-Signature:", StringComparison.Ordinal);
        var index = text.IndexOf(find, text.IndexOf("\r\n", start + 400 > text.Length ? start : start, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{find}' is not in the message.");
        return Encoding.UTF8.GetBytes(string.Concat(text.AsSpan(0, index), replace, text.AsSpan(index + find.Length)));
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
