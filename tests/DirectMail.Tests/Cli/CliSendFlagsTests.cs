using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Cli;

/// <summary>
/// The flags of <c>directmail send</c> that swaks and dig users look for, run as a process against the CLI servers (NSD
/// for cli.test, the scripted MX of mail.cli.test on 127.0.28.10:10025) and servers of this class: a STARTTLS server on
/// 127.0.28.20, one that never greets on 127.0.28.21, and one that notes the client's address on 127.0.28.22 (each port
/// 10025). What each server received (or did not) is asserted after its conversations ended.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CliSendFlagsTests(CliServers servers) : IAsyncLifetime
{
    private const string Sender = "sender@client.cli.test";
    private static readonly IPEndPoint TlsEndPoint = new(TestAddresses.Cli.Tls, TestAddresses.Cli.Port);
    private static readonly IPEndPoint SilentEndPoint = new(TestAddresses.Cli.Silent, TestAddresses.Cli.Port);
    private static readonly IPEndPoint NotingEndPoint = new(TestAddresses.Cli.Noting, TestAddresses.Cli.Port);

    private readonly ConcurrentQueue<string> _beforeTls = new();
    private readonly SmtpDialogue _tls = new() { Greeting = "220 tls.cli.test ESMTP" };
    private readonly SmtpDialogue _silent = new() { Greeting = SmtpDialogue.Silent };
    private readonly SmtpDialogue _noting = new();
    private readonly ConcurrentQueue<IPEndPoint> _clients = new();
    private readonly CancellationTokenSource _stop = new();
    private ScriptedSmtpServer? _tlsServer;
    private ScriptedSmtpServer? _silentServer;
    private TcpListener? _notingListener;
    private Task? _notingLoop;

    public Task InitializeAsync()
    {
        servers.Reset();
        _tlsServer = ScriptedSmtpServer.Start(async c =>
        {
            await c.ReplyAsync("220 tls.cli.test ESMTP");
            _beforeTls.Enqueue(await c.ExpectAsync("EHLO"));
            await c.ReplyAsync("250-tls.cli.test\r\n250-PIPELINING\r\n250 STARTTLS");
            var line = await c.ReadLineAsync();
            if (line is null)
            {
                return;
            }

            _beforeTls.Enqueue(line);
            if (!line.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase))
            {
                await c.ReplyAsync("221 2.0.0 Bye");
                return;
            }

            await c.ReplyAsync("220 2.0.0 Ready to start TLS");
            await c.StartTlsAsServerAsync(TestCertificates.SelfSigned);
            await _tls.RunAfterGreetingAsync(c);
        }, TlsEndPoint);
        _silentServer = ScriptedSmtpServer.Start(_silent.RunAsync, SilentEndPoint);

        // A plain listener, to see the address the client connects from.
        _notingListener = new TcpListener(NotingEndPoint);
        _notingListener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _notingListener.Start();
        _notingLoop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _notingListener.AcceptSocketAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                _clients.Enqueue((IPEndPoint)socket.RemoteEndPoint!);
                await using var connection = new ScriptedConnection(socket, _stop.Token);
                await _noting.RunAsync(connection);
            }
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _tlsServer!.DisposeAsync();
        await _silentServer!.DisposeAsync();
        _stop.Cancel();
        _notingListener!.Stop();
        await _notingLoop!.WaitAsync(TimeSpan.FromSeconds(10));
    }

    // ---- DSN: --notify, --ret, --envid ----

    [Fact]
    public async Task Notify_ret_and_envid_go_on_MAIL_and_every_RCPT_to_a_server_that_offers_DSN()
    {
        var ehlo = servers.Dialogue.EhloReply;
        servers.Dialogue.EhloReply = "250-mx.cli.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 DSN";
        try
        {
            var result = await CliRunner.RunAsync(
                "send", "-f", Sender, "-t", "one@mail.cli.test", "-t", "two@mail.cli.test", "--text", "hi", "--helo", "client.cli.test",
                "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", "--notify", "failure,delay", "--ret", "hdrs", "--envid", "cli+1");

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Single(servers.Dialogue.Messages);
            Assert.EndsWith(" RET=HDRS ENVID=cli+2B1", servers.Dialogue.Commands.First(c => c.StartsWith("MAIL", StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.Contains("RCPT TO:<one@mail.cli.test> NOTIFY=FAILURE,DELAY", servers.Dialogue.Commands);
            Assert.Contains("RCPT TO:<two@mail.cli.test> NOTIFY=FAILURE,DELAY", servers.Dialogue.Commands);
        }
        finally
        {
            servers.Dialogue.EhloReply = ehlo;
        }
    }

    [Theory]
    [InlineData("--notify", "never,success", "never stands alone")]
    [InlineData("--notify", "sometimes", "not never, or a comma list")]
    [InlineData("--ret", "body", "full")]
    public async Task A_bad_DSN_option_is_a_usage_error_and_nothing_is_sent(string option, string value, string error)
    {
        var result = await CliRunner.RunAsync("send", "-f", Sender, "-t", "one@mail.cli.test", "--text", "hi", "--helo", "client.cli.test", "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", option, value);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains(error, result.StdErr, StringComparison.Ordinal);
        Assert.Empty(servers.Dialogue.Commands);
    }

    [Fact]
    public async Task An_envid_with_a_line_break_or_over_100_characters_is_invalid_input()
    {
        // Stops: a CR LF in ENVID adding a command to the MAIL line.
        var result = await CliRunner.RunAsync("send", "-f", Sender, "-t", "one@mail.cli.test", "--text", "hi", "--helo", "client.cli.test", "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", "--envid", new string('x', 101));

        Assert.True(result.ExitCode == 65, result.ToString());
        Assert.Contains("--envid:", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(servers.Dialogue.Commands);
    }

    // ---- --server ----

    [Fact]
    public async Task Server_with_an_IP_literal_delivers_there_without_an_MX_lookup()
    {
        // nosuch.cli.test does not exist in the zone: an MX lookup would fail the recipient for good.
        var result = await CliRunner.RunAsync(
            "send", "-f", Sender, "-t", "someone@nosuch.cli.test", "--text", "hi", "--helo", "client.cli.test", "--dns", CliServers.Dns,
            "--server", "127.0.28.10:10025");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("someone@nosuch.cli.test: delivered, 250 2.0.0 Ok: queued as 4XyZ, via 127.0.28.10 [127.0.28.10]", result.StdOut);
        Assert.Single(servers.Dialogue.Messages);
        Assert.Contains("RCPT TO:<someone@nosuch.cli.test>", servers.Dialogue.Commands);
        Assert.Contains("MAIL FROM:<" + Sender + ">", servers.Dialogue.Commands.First(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Server_with_a_name_is_resolved_through_the_dns_option_and_takes_the_port_option()
    {
        var result = await CliRunner.RunAsync(
            "send", "--from", Sender, "--to", "someone@nosuch.cli.test", "--text", "hi", "--helo", "client.cli.test", "--dns", CliServers.Dns,
            "--server", "mx.mail.cli.test", "--port", "10025");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("someone@nosuch.cli.test: delivered, 250 2.0.0 Ok: queued as 4XyZ, via mx.mail.cli.test [127.0.28.10]", result.StdOut);
        Assert.Single(servers.Dialogue.Messages);
    }

    [Theory]
    [InlineData("--server", "127.0.28.10:10025", "--port", "10025")]
    [InlineData("--server", "127.0.28.10", "--relay", "smtp.example.net")]
    [InlineData("--server", "host:notaport")]
    [InlineData("--server", "127.0.28.10", "--queue", "/nonexistent/queue")]
    public async Task Server_conflicts_are_usage_errors(params string[] args)
    {
        var result = await CliRunner.RunAsync(["send", "--from", Sender, "--to", "a@nosuch.cli.test", "--text", "x", "--helo", "client.cli.test", .. args]);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail send:");
        Assert.Empty(servers.Dialogue.Commands);
    }

    // ---- --quit-after ----

    [Theory]
    [InlineData("connect", new string[0])]
    [InlineData("greeting", new[] { "QUIT" })]
    [InlineData("ehlo", new[] { "EHLO client.cli.test", "QUIT" })]
    [InlineData("tls", new[] { "EHLO client.cli.test", "QUIT" })] // STARTTLS is not offered: opportunistic goes on without
    [InlineData("mail", new[] { "EHLO client.cli.test", "MAIL FROM:<sender@client.cli.test>", "QUIT" })]
    [InlineData("rcpt", new[] { "EHLO client.cli.test", "MAIL FROM:<sender@client.cli.test>", "RCPT TO:<bob@mail.cli.test>", "RCPT TO:<carol@mail.cli.test>", "QUIT" })]
    public async Task Quit_after_a_step_sends_nothing_after_it(string step, string[] expected)
    {
        var result = await Send("--to", "bob@mail.cli.test", "--cc", "carol@mail.cli.test", "--subject", "probe", "--text", "never sent", "--quit-after", step);

        Assert.True(result.ExitCode == 0, result.ToString());
        await servers.Mail!.WaitForScriptsAsync();
        Assert.Equal(expected, servers.Dialogue.Commands);
        Assert.Empty(servers.Dialogue.Messages);
        var lines = result.StdOut.ReplaceLineEndings("\n").Split('\n');
        Assert.StartsWith("connect: mx.mail.cli.test [127.0.28.10:10025] from 127.", lines[0]);
        if (step != "connect")
        {
            Assert.Equal("greeting: 220 mx.test ESMTP", lines[1]);
        }

        if (step == "rcpt")
        {
            Assert.Contains("mail: 250 2.1.0 Ok", lines);
            Assert.Contains("rcpt bob@mail.cli.test: 250 2.1.5 Ok", lines);
            Assert.Contains("rcpt carol@mail.cli.test: 250 2.1.5 Ok", lines);
        }

        Assert.Contains($"Quit after {step}: no message was sent.", lines);
    }

    [Theory]
    [InlineData("bounce@mail.cli.test", 69, "rcpt bounce@mail.cli.test: 550 5.1.1 <bounce@mail.cli.test>: Recipient address rejected: User unknown")]
    [InlineData("later@mail.cli.test", 75, "rcpt later@mail.cli.test: 451 4.7.1 <later@mail.cli.test>: Recipient address rejected: Greylisted")]
    public async Task Quit_after_rcpt_exits_with_the_refusal_and_sends_no_DATA(string recipient, int exitCode, string line)
    {
        var result = await Send("--to", "ok@mail.cli.test", "--to", recipient, "--text", "x", "--quit-after", "rcpt");

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(line, result.StdOut);
        Assert.Contains("rcpt ok@mail.cli.test: 250 2.1.5 Ok", result.StdOut);
        await servers.Mail!.WaitForScriptsAsync();
        Assert.DoesNotContain(servers.Dialogue.Commands, c => c.StartsWith("DATA", StringComparison.Ordinal) || c.StartsWith("BDAT", StringComparison.Ordinal));
        Assert.Equal("QUIT", servers.Dialogue.Commands.Last());
        Assert.Empty(servers.Dialogue.Messages);
    }

    [Fact]
    public async Task Quit_after_json_has_the_schema_version_first_and_each_step()
    {
        var result = await Send("--to", "bounce@mail.cli.test", "--text", "x", "--quit-after", "rcpt", "--json", "--trace");

        Assert.True(result.ExitCode == 69, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var root = json.RootElement;
        Assert.Equal("schemaVersion", root.EnumerateObject().First().Name);
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("rcpt", root.GetProperty("quitAfter").GetString());
        Assert.Equal("mx.mail.cli.test", root.GetProperty("server").GetString());
        Assert.Equal("127.0.28.10:10025", root.GetProperty("address").GetString());
        var steps = root.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["connect", "greeting", "ehlo", "tls", "mail", "rcpt"], steps.Select(s => s.GetProperty("step").GetString()));
        Assert.Equal(550, steps[^1].GetProperty("replyCode").GetInt32());
        Assert.Equal("5.1.1", steps[^1].GetProperty("enhancedStatusCode").GetString());
        Assert.Equal("bounce@mail.cli.test", steps[^1].GetProperty("recipient").GetString());

        // The trace goes to stderr beside the JSON, and ends with QUIT.
        Assert.Contains("C: RCPT TO:<bounce@mail.cli.test>", result.StdErr);
        Assert.Contains("C: QUIT", result.StdErr);
        Assert.DoesNotContain("C: DATA", result.StdErr);
    }

    [Fact]
    public async Task Quit_after_tls_makes_the_handshake_says_EHLO_again_and_quits()
    {
        var result = await SendTo(TlsEndPoint, "--quit-after", "tls");

        Assert.True(result.ExitCode == 0, result.ToString());
        await _tlsServer!.WaitForScriptsAsync();
        Assert.Equal(["EHLO client.cli.test", "STARTTLS"], _beforeTls);
        Assert.Equal(["EHLO client.cli.test", "QUIT"], _tls.Commands);
        Assert.Matches(@"\ntls: 220 2\.0\.0 Ready to start TLS \(Tls1[23]\)\n", result.StdOut.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Quit_after_where_nothing_listens_exits_75_with_the_reason()
    {
        var result = await SendTo(new IPEndPoint(TestAddresses.Cli.Refused, TestAddresses.Cli.Port), "--quit-after", "rcpt");

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.StartsWith("connect: 127.0.28.23 [127.0.28.23:10025]: Could not connect to 127.0.28.23 (127.0.28.23:10025): ConnectionRefused.", result.StdOut);
        Assert.Contains("Quit after rcpt: no message was sent.", result.StdOut);
    }

    [Fact]
    public async Task Quit_after_through_MX_lookup_needs_recipients_of_one_domain()
    {
        var result = await Send("--to", "bob@mail.cli.test", "--to", "someone@implicit.cli.test", "--text", "x", "--quit-after", "rcpt");

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail: --quit-after talks to one server: give recipients of one domain, or name the server (--server HOST).");
        Assert.Empty(servers.Dialogue.Commands);
    }

    [Theory]
    [InlineData("tls", "--tls", "none")]
    [InlineData("auth")]
    [InlineData("data")]
    [InlineData("rcpt", "--retries", "2")]
    public async Task Quit_after_a_step_that_cannot_be_reached_is_a_usage_error(string step, params string[] more)
    {
        var result = await Send(["--to", "bob@mail.cli.test", "--text", "x", "--quit-after", step, .. more]);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail send:");
        Assert.Empty(servers.Dialogue.Commands);
    }

    // ---- --header ----

    [Fact]
    public async Task Header_adds_each_field_to_the_message()
    {
        var result = await Send("--to", "bob@mail.cli.test", "--subject", "h", "--text", "x", "--header", "X-Campaign: spring", "--header", "List-Unsubscribe:<mailto:u@client.cli.test>");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stored = Encoding.UTF8.GetString(Assert.Single(servers.Dialogue.Messages));
        Assert.Contains("\r\nX-Campaign: spring\r\n", stored);
        Assert.Contains("\r\nList-Unsubscribe: <mailto:u@client.cli.test>\r\n", stored);
    }

    [Theory]
    [InlineData("No colon here", "--header 'No colon here' is not \"Name: value\".")]
    [InlineData("Bad Name: x", "--header 'Bad Name: x': The header name 'Bad Name' holds ' '")]
    [InlineData("X-Inject: a\r\nBcc: victim@example.net", @"--header 'X-Inject: a\x0d\x0aBcc: victim@example.net':")]
    [InlineData("From: someone@else.test", "--header 'From: someone@else.test': The header 'From' is written from the message's own properties")]
    public async Task A_bad_header_is_a_usage_error_and_nothing_is_sent(string header, string error)
    {
        var result = await Send("--to", "bob@mail.cli.test", "--text", "x", "--header", header);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail send: " + error);
        Assert.Empty(servers.Dialogue.Commands);
    }

    // ---- standard input ----

    [Fact]
    public async Task Eml_dash_sends_the_standard_input_as_it_is()
    {
        var text = "From: " + Sender + "\r\nTo: erin@mail.cli.test\r\nSubject: from stdin\r\n\r\n.a dot line\r\nend\r\n";

        var result = await CliRunner.RunWithInputAsync(Encoding.UTF8.GetBytes(text), Args("--to", "erin@mail.cli.test", "--eml", "-"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Encoding.UTF8.GetBytes(text), Assert.Single(servers.Dialogue.Messages));
    }

    [Theory]
    [InlineData("--text-file", "text/plain")]
    [InlineData("--html-file", "text/html")]
    public async Task A_body_file_dash_reads_the_standard_input(string option, string type)
    {
        var result = await CliRunner.RunWithInputAsync(Encoding.UTF8.GetBytes("Körper aus stdin\n"), Args("--to", "erin@mail.cli.test", "--subject", "s", option, "-"));

        Assert.True(result.ExitCode == 0, result.ToString());
        var stored = Encoding.UTF8.GetString(Assert.Single(servers.Dialogue.Messages));
        Assert.Contains("Content-Type: " + type, stored);
        // UTF-8 as read: 8-bit (the server offers 8BITMIME) or quoted-printable.
        Assert.True(stored.Contains("K\u00f6rper aus stdin", StringComparison.Ordinal) || stored.Contains("K=C3=B6rper aus stdin", StringComparison.Ordinal), stored);
    }

    [Fact]
    public async Task The_standard_input_is_read_once()
    {
        var result = await CliRunner.RunWithInputAsync(Encoding.UTF8.GetBytes("x"), Args("--to", "erin@mail.cli.test", "--text-file", "-", "--html-file", "-"));

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail send: the standard input (-) can be read once");
        Assert.Empty(servers.Dialogue.Commands);
    }

    // ---- -4 / -6, --local-address ----

    [Fact]
    public async Task Ipv6_only_finds_no_address_for_an_IPv4_only_MX_and_ipv4_only_delivers()
    {
        var six = await Send("-6", "--to", "bob@mail.cli.test", "--text", "x");
        var commandsAfterSix = servers.Dialogue.Commands.Count;
        var four = await Send("-4", "--to", "bob@mail.cli.test", "--text", "x");
        var both = await Send("-4", "-6", "--to", "bob@mail.cli.test", "--text", "x");

        Assert.True(six.ExitCode == 69, six.ToString());
        Assert.Contains("bob@mail.cli.test: failed, 550 5.4.4", six.StdOut);
        Assert.Equal(0, commandsAfterSix);
        Assert.True(four.ExitCode == 0, four.ToString());
        Assert.Single(servers.Dialogue.Messages);
        Assert.True(both.ExitCode == 64, both.ToString());
        CliAssert.OneLineError(both, "directmail send: -4 and -6");
    }

    [Fact]
    public async Task Local_address_is_the_address_the_server_sees()
    {
        var result = await SendTo(NotingEndPoint, "--local-address", "127.0.0.9");
        var wrong = await SendTo(NotingEndPoint, "--local-address", "not-an-ip");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(IPAddress.Parse("127.0.0.9"), Assert.Single(_clients).Address);
        Assert.Single(_noting.Messages);
        Assert.True(wrong.ExitCode == 65, wrong.ToString());
        CliAssert.OneLineError(wrong, "directmail: --local-address 'not-an-ip' is not an IP address.");
    }

    // ---- --timeout, --retries ----

    [Fact]
    public async Task Timeout_bounds_the_wait_for_a_reply()
    {
        var result = await SendTo(SilentEndPoint, "--timeout", "1s", "--retries", "0");

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains("x@nosuch.cli.test: deferred", result.StdOut);
        Assert.Contains("did not reply within 00:00:01 (Greeting)", result.StdOut);
        Assert.Equal(1, _silentServer!.Accepted);
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("2", 3)]
    public async Task Retries_is_how_many_more_times_a_deferred_domain_is_tried(string retries, int attempts)
    {
        var result = await Send("--to", "later@mail.cli.test", "--text", "x", "--retries", retries);

        Assert.True(result.ExitCode == 75, result.ToString());
        await servers.Mail!.WaitForScriptsAsync();
        Assert.Equal(attempts, servers.Dialogue.Commands.Count(c => c == "RCPT TO:<later@mail.cli.test>"));
    }

    [Theory]
    [InlineData("--retries", "101")]
    [InlineData("--timeout", "0s")]
    [InlineData("--timeout", "soon")]
    public async Task Bad_timeouts_and_retries_are_usage_errors(string option, string value)
    {
        var result = await Send("--to", "bob@mail.cli.test", "--text", "x", option, value);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail send: " + option);
    }

    // ---- the command as a whole ----

    [Fact]
    public async Task Plain_directmail_prints_the_help_and_exits_0()
    {
        var result = await CliRunner.RunAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var help = result.StdOut.ReplaceLineEndings("\n");
        Assert.Contains("Usage:\n  directmail [command] [options]", help);
        Assert.Contains("send", help);
        Assert.Contains("doctor", help);
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public async Task Every_json_document_starts_with_the_schema_version()
    {
        var send = await Send("--to", "bob@mail.cli.test", "--text", "x", "--json");
        var mx = await CliRunner.RunAsync("mx", "mail.cli.test", "--dns", CliServers.Dns, "--json");

        foreach (var result in new[] { send, mx })
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.StartsWith("{\n  \"schemaVersion\": 1,\n", result.StdOut.ReplaceLineEndings("\n"));
        }
    }

    private static string[] Args(params string[] args) =>
        ["send", "--from", Sender, "--helo", "client.cli.test", "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", .. args];

    private static Task<CliResult> Send(params string[] args) => CliRunner.RunAsync(Args(args));

    /// <summary>send to x@nosuch.cli.test through --server (the domain does not exist: no MX lookup is made).</summary>
    private static Task<CliResult> SendTo(IPEndPoint server, params string[] args) => CliRunner.RunAsync(
        ["send", "--from", Sender, "--to", "x@nosuch.cli.test", "--text", "x", "--helo", "client.cli.test", "--server", server.ToString(), .. args]);
}
