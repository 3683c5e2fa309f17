using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dsn;

/// <summary>
/// The RFC 3461 parameters on the wire at a real server other than Postfix: aiosmtpd (<c>dsn_server.py</c>). Offering
/// DSN, it checks their syntax (501 otherwise) and logs every MAIL and RCPT line exactly as received; aiosmtpd as it
/// ships implements no DSN and refuses any parameter it does not know with 555, so a client that sent RET, ENVID,
/// NOTIFY or ORCPT to a server that did not offer DSN would have its mail refused.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DsnParametersAtAiosmtpdTests
{
    private const int Port = 10025;
    private static readonly IPAddress WithDsn = IPAddress.Parse("127.0.45.1");
    private static readonly IPAddress WithoutDsn = IPAddress.Parse("127.0.45.2");

    private static readonly byte[] Content = Encoding.ASCII.GetBytes(
        "From: billing@client.test\r\nTo: customers:;\r\nSubject: invoice\r\nMessage-ID: <inv-42@client.test>\r\n\r\nYour invoice.\r\n.dot line\r\n");

    private static SmtpEnvelope Envelope(string domain) => new("billing@client.test", new SmtpRecipient[]
    {
        new($"ann@{domain}", DsnNotify.Success | DsnNotify.Failure, "list+ann@client.test"),
        new($"bob@{domain}", DsnNotify.Never),
        $"cy@{domain}",
        new($"dee@{domain}", DsnNotify.Delay, "dee=x@client.test"),
    })
    {
        DsnReturn = DsnReturn.Headers,
        DsnEnvelopeId = "inv 42+x",
    };

    [Fact]
    public async Task A_server_offering_DSN_gets_each_recipient_s_NOTIFY_and_ORCPT_and_the_message_s_RET_and_ENVID_as_xtext()
    {
        // Stops: a parameter dropped, moved to another recipient, or sent unencoded (a space or '+' in ENVID or ORCPT
        // breaks the command; aiosmtpd's check answers 501 and the mail would not go).
        using var server = new DsnServer(WithDsn, dsn: true);
        await using var mailer = Mailer("dsn.aio.test", WithDsn);

        var report = await mailer.SendAsync(Envelope("dsn.aio.test"), SmtpContent.FromBytes(Content));

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(
            [
                "MAIL FROM:<billing@client.test> RET=HDRS ENVID=inv+2042+2Bx",
                "RCPT TO:<ann@dsn.aio.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;list+2Bann@client.test",
                "RCPT TO:<bob@dsn.aio.test> NOTIFY=NEVER",
                "RCPT TO:<cy@dsn.aio.test>",
                "RCPT TO:<dee@dsn.aio.test> NOTIFY=DELAY ORCPT=rfc822;dee+3Dx@client.test",
            ],
            server.Commands().Select(WithoutSizeAndBody));
        var stored = Assert.Single(server.Messages());
        Assert.Equal(Content, stored.Content);
        Assert.Equal(["ann@dsn.aio.test", "bob@dsn.aio.test", "cy@dsn.aio.test", "dee@dsn.aio.test"], stored.Recipients);
    }

    [Fact]
    public async Task A_server_without_DSN_gets_none_of_the_parameters_and_takes_the_message()
    {
        // Stops: DSN parameters sent to a server that did not offer DSN (RFC 3461 section 4): aiosmtpd refuses them
        // with 555 and the recipients would fail for a parameter the sender only asked to pass on.
        using var server = new DsnServer(WithoutDsn, dsn: false);
        await using var mailer = Mailer("plain.aio.test", WithoutDsn);

        var report = await mailer.SendAsync(Envelope("plain.aio.test"), SmtpContent.FromBytes(Content));

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.All(report.Recipients, r => Assert.False(r.NextHopOfferedDsn));
        Assert.Equal(
            [
                "MAIL FROM:<billing@client.test>",
                "RCPT TO:<ann@plain.aio.test>",
                "RCPT TO:<bob@plain.aio.test>",
                "RCPT TO:<cy@plain.aio.test>",
                "RCPT TO:<dee@plain.aio.test>",
            ],
            server.Commands().Select(WithoutSizeAndBody));
        Assert.Equal(Content, Assert.Single(server.Messages()).Content);
    }

    [Fact]
    public async Task The_check_in_the_server_is_real_a_malformed_parameter_is_refused()
    {
        // The test server's own check, so that the test above cannot pass against a server that takes anything.
        using var server = new DsnServer(WithDsn, dsn: true);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(WithDsn, Port);
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await ReadReplyAsync(reader);
        await writer.WriteLineAsync("EHLO probe.test");
        Assert.Contains("250-DSN", await ReadReplyAsync(reader), StringComparison.Ordinal);

        await writer.WriteLineAsync("MAIL FROM:<a@client.test> RET=SOME");
        var bad = await ReadReplyAsync(reader);
        await writer.WriteLineAsync("MAIL FROM:<a@client.test> ENVID=has space");
        var unencoded = await ReadReplyAsync(reader);
        await writer.WriteLineAsync("MAIL FROM:<a@client.test> RET=FULL ENVID=ok+2B");
        var good = await ReadReplyAsync(reader);
        await writer.WriteLineAsync("RCPT TO:<b@dsn.aio.test> NOTIFY=NEVER,SUCCESS");
        var never = await ReadReplyAsync(reader);

        Assert.StartsWith("501 ", bad, StringComparison.Ordinal);
        Assert.StartsWith("5", unencoded, StringComparison.Ordinal);
        Assert.StartsWith("250 ", good, StringComparison.Ordinal);
        Assert.StartsWith("501 ", never, StringComparison.Ordinal);
    }

    private static DirectMailer Mailer(string domain, IPAddress address) => new(
        LoopbackMailerOptions.Create(Port, o => o.HeloName = "client.test"),
        new TableResolver { [domain] = [("mx." + domain, 10, address)] });

    /// <summary>The line without the SIZE and BODY parameters DirectMail adds when aiosmtpd offers them (they are not what is checked here).</summary>
    private static string WithoutSizeAndBody(string line) =>
        string.Join(' ', line.Split(' ').Where(p => !p.StartsWith("SIZE=", StringComparison.Ordinal) && !p.StartsWith("BODY=", StringComparison.Ordinal)));

    private static async Task<string> ReadReplyAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            text.Append(line).Append('\n');
            if (line.Length < 4 || line[3] == ' ')
            {
                break;
            }
        }

        return text.ToString();
    }

    /// <summary><c>dsn_server.py</c> as a child process on one loopback address; what it received is read back from its store.</summary>
    private sealed class DsnServer : IDisposable
    {
        private readonly ChildProcess _process;
        private readonly string _store = Directory.CreateTempSubdirectory("directmail-dsn-aiosmtpd-").FullName;

        public DsnServer(IPAddress address, bool dsn)
        {
            var arguments = new List<string> { Path.Combine(AppContext.BaseDirectory, "Dsn", "dsn_server.py"), "--host", address.ToString(), "--port", Port.ToString(CultureInfo.InvariantCulture), "--store", _store };
            if (dsn)
            {
                arguments.Add("--dsn");
            }

            var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; // Debian's, which has aiosmtpd
            _process = new ChildProcess(python, [.. arguments]);
            _process.WaitForOutput("ready", TimeSpan.FromSeconds(15), "the DSN test server (python3-aiosmtpd)");
        }

        public IReadOnlyList<string> Commands()
        {
            var path = Path.Combine(_store, "commands.log");
            return File.Exists(path) ? File.ReadAllLines(path, Encoding.UTF8) : [];
        }

        public IReadOnlyList<(IReadOnlyList<string> Recipients, byte[] Content)> Messages()
        {
            var list = new List<(IReadOnlyList<string>, byte[])>();
            foreach (var eml in Directory.GetFiles(_store, "*.eml").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture)))
            {
                using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(eml, ".json")));
                list.Add((json.RootElement.GetProperty("rcpt_tos").EnumerateArray().Select(r => r.GetString()!).ToList(), File.ReadAllBytes(eml)));
            }

            return list;
        }

        public void Dispose()
        {
            _process.Dispose();
            Directory.Delete(_store, recursive: true);
        }
    }
}
