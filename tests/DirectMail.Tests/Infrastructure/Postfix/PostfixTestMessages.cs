using System;
using System.Globalization;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;

namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>Messages and sessions for the Postfix tests.</summary>
public static class PostfixTestMessages
{
    public const string Sender = "sender@client.test";
    public const string HeloName = "client.directmail.test";

    public static SmtpSessionOptions Options(SmtpTlsMode tlsMode = SmtpTlsMode.None)
    {
        var options = new SmtpSessionOptions { HeloName = HeloName, TlsMode = tlsMode };
        TestTimeouts.SetAll(options.Timeouts, TimeSpan.FromSeconds(10));
        options.Timeouts.Connect = TimeSpan.FromSeconds(5);
        options.Timeouts.DataTermination = TimeSpan.FromSeconds(20);
        return options;
    }

    /// <summary>Opens a session to the fixture's Postfix and checks it is ready.</summary>
    public static async Task<SmtpSession> ConnectAsync(PostfixFixture postfix, SmtpSessionOptions options, Transcript transcript)
    {
        var session = new SmtpSession(options, transcript);
        var connected = await session.ConnectAsync(postfix.EndPoint, PostfixFixture.HostName);
        Assert.True(connected.IsSuccess, $"{connected}\n{transcript}");
        return session;
    }

    /// <summary>A unique Message-ID, so that a failing test's message can be found in the Maildir and the log.</summary>
    public static string NewMessageId() => Guid.NewGuid().ToString("N") + "@client.test";

    /// <summary>A complete message with CRLF line ends: the headers, a blank line and <paramref name="body"/> as given.</summary>
    public static byte[] Message(string recipient, string subject, string body, string contentType = "text/plain; charset=us-ascii", string transferEncoding = "7bit", string? messageId = null)
    {
        var headers = string.Create(CultureInfo.InvariantCulture, $"""
            From: Sender <{Sender}>
            To: <{recipient}>
            Subject: {subject}
            Date: Wed, 26 Nov 2025 10:00:00 +0000
            Message-ID: <{messageId ?? NewMessageId()}>
            MIME-Version: 1.0
            Content-Type: {contentType}
            Content-Transfer-Encoding: {transferEncoding}


            """).ReplaceLineEndings("\r\n");
        return Encoding.UTF8.GetBytes(headers + body);
    }

    /// <summary>
    /// A body of about <paramref name="octets"/> octets in lines of varied length (some starting with a dot), the same
    /// for the same arguments.
    /// </summary>
    public static string Body(int octets, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(octets + 100);
        var line = 0;
        while (text.Length < octets)
        {
            line++;
            if (line % 17 == 0)
            {
                text.Append('.');
            }

            var length = random.Next(0, 120);
            for (var i = 0; i < length; i++)
            {
                text.Append((char)random.Next(0x21, 0x7F));
            }

            text.Append("\r\n");
        }

        return text.ToString();
    }
}
