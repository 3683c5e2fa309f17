using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using DirectMail.Mime;
using DirectMail.Smtp;
using MimeKit;

namespace DirectMail.Tests.Mime;

/// <summary>Writes messages with DirectMail and reads them back with MimeKit, an independent parser.</summary>
internal static class MimeTestSupport
{
    public static readonly SmtpCapabilities EightBit = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME", "SMTPUTF8" }));

    public static readonly SmtpCapabilities SevenBit = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "PIPELINING" }));

    public static IEnumerable<object[]> BothCapabilities()
    {
        yield return new object[] { true };
        yield return new object[] { false };
    }

    public static SmtpCapabilities Capabilities(bool eightBit) => eightBit ? EightBit : SevenBit;

    public static byte[] Write(SmtpContent content, SmtpCapabilities capabilities)
    {
        using var output = new MemoryStream();
        content.WriteToAsync(output, capabilities, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var bytes = output.ToArray();
        AssertWireForm(bytes, capabilities.Supports(SmtpExtensions.EightBitMime) || content.RequiresSmtpUtf8);
        Assert.Equal(content.GetBodyType(capabilities) == SmtpBodyType.EightBit, Array.Exists(bytes, b => b >= 0x80) || content.GetBodyType(capabilities) == SmtpBodyType.EightBit);
        if (content.GetBodyType(capabilities) == SmtpBodyType.SevenBit)
        {
            Assert.DoesNotContain(bytes, b => b >= 0x80);
        }

        return bytes;
    }

    public static byte[] Write(EmailMessage message, SmtpCapabilities capabilities, MimeRandom? random = null)
        => Write(new MessageContent(message, random ?? MimeRandom.Shared, null), capabilities);

    public static MimeMessage Parse(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        return MimeMessage.Load(stream);
    }

    public static MimeMessage RoundTrip(EmailMessage message, SmtpCapabilities capabilities) => Parse(Write(message, capabilities));

    /// <summary>
    /// The form every writer output must have: CRLF only (no bare CR or LF), no line over 998 octets, header lines
    /// folded at 78 where a fold point exists, 7-bit octets unless allowed.
    /// </summary>
    public static void AssertWireForm(byte[] bytes, bool eightBitAllowed)
    {
        Assert.True(bytes.Length >= 2 && bytes[^2] == '\r' && bytes[^1] == '\n', "The message must end with CRLF.");
        var lineStart = 0;
        var inHeader = true;
        var lineNumber = 1;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == '\r')
            {
                Assert.True(i + 1 < bytes.Length && bytes[i + 1] == '\n', $"Bare CR at offset {i} (line {lineNumber}).");
                var length = i - lineStart;
                Assert.True(length <= 998, $"Line {lineNumber} is {length} octets.");
                if (inHeader)
                {
                    if (length == 0)
                    {
                        inHeader = false;
                    }
                    else
                    {
                        // Over 78 only when no fold point would have helped: a space (after the line's own
                        // leading one) with at most 77 characters after it.
                        var line = System.Text.Encoding.UTF8.GetString(bytes, lineStart, length);
                        var lastSpace = line.LastIndexOf(' ');
                        Assert.True(length <= 78 || lastSpace < 1 || line.Length - lastSpace > 77,
                            $"Header line {lineNumber} is {length} characters though it could be folded: {line}");
                    }
                }

                i++;
                lineStart = i + 1;
                lineNumber++;
            }
            else if (b == '\n')
            {
                Assert.Fail($"Bare LF at offset {i} (line {lineNumber}).");
            }
            else if (b == 0)
            {
                Assert.Fail($"NUL at offset {i}.");
            }
            else if (b >= 0x80 && !eightBitAllowed)
            {
                Assert.Fail($"8-bit octet at offset {i} (line {lineNumber}) without 8BITMIME.");
            }
        }
    }

    public static string Ascii(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}

/// <summary>Fixed boundaries and Message-ID parts, for exact bytes.</summary>
internal sealed class FixedRandom : MimeRandom
{
    private int _boundary;

    public override string CreateBoundary() => "=_boundary" + (++_boundary).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override string CreateMessageIdLocalPart() => "fixed-id";
}
