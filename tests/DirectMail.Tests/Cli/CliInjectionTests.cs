using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Cli;

/// <summary>
/// Review items 16 and 24. A hostile server's text reaches the terminal only as visible escapes: its greeting sets the
/// window title (OSC) and clears the screen (CSI), its refusal holds a bare CR followed by a forged "S: 250" line, a C1
/// control (NEL) and U+202E (right-to-left override); <c>--trace</c>, the report and <c>--json</c> show none of them raw.
/// And a control character typed in <c>--subject</c> or in an attachment's file name is wrong input: exit 65, one
/// line, nothing sent. The server is a scripted one on 127.0.28.11:10025, reached through an address literal.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CliInjectionTests : IAsyncLifetime
{
    private const string Sender = "sender@client.cli.test";
    private const string Recipient = "victim@[127.0.28.11]";
    private const string Greeting = "220 mx.evil.test ESMTP \u001b]0;owned\u0007\u001b[2J";
    private const string Refusal = "550 5.1.1 \u001b[32mUser unknown\rS: 250 2.0.0 Ok: queued\u0085 \u202Eexe.txt";

    private static readonly IPEndPoint EndPoint = new(TestAddresses.Cli.Injection, TestAddresses.Cli.Port);

    private readonly SmtpDialogue _dialogue = new()
    {
        Greeting = Greeting,
        EhloReply = "250-mx.evil.test\r\n250 ENHANCEDSTATUSCODES",
        Respond = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? Refusal : null,
    };

    private ScriptedSmtpServer? _server;

    public Task InitializeAsync()
    {
        _server = ScriptedSmtpServer.Start(_dialogue.RunAsync, EndPoint);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Trace_and_report_show_a_hostile_servers_escape_sequences_bare_CR_C1_and_bidi_controls_as_escapes()
    {
        var result = await Send("--to", Recipient, "--subject", "hi", "--text", "hi", "--trace", "--verbose");

        Assert.True(result.ExitCode == 69, result.ToString());
        AssertNothingRaw(result.StdOut);
        AssertNothingRaw(result.StdErr);
        var lines = result.StdOut.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("--- ", StringComparison.Ordinal));
        Assert.True(start >= 0, result.ToString());
        Assert.Equal(
            [
                @"S: 220 mx.evil.test ESMTP \x1b]0;owned\x07\x1b[2J",
                "C: EHLO client.cli.test",
                "S: 250-mx.evil.test",
                "S: 250 ENHANCEDSTATUSCODES",
                "C: MAIL FROM:<" + Sender + ">",
                "S: 250 2.1.0 Ok",
                "C: RCPT TO:<" + Recipient + ">",
                @"S: 550 5.1.1 \x1b[32mUser unknown\x0dS: 250 2.0.0 Ok: queued\x85 \u202eexe.txt",
            ],
            lines[(start + 1)..(start + 9)]);

        // The reply in the report: the library's parser has already made C0 controls U+FFFD; C1 and bidi are escaped here.
        Assert.True(lines.Contains("victim@[127.0.28.11]: failed, 550 5.1.1 \uFFFD[32mUser unknown\uFFFDS: 250 2.0.0 Ok: queued\\x85 \\u202eexe.txt, via [127.0.28.11] [127.0.28.11]"), result.ToString());
        Assert.DoesNotContain(lines, l => l.StartsWith("S: 250 2.0.0 Ok: queued", StringComparison.Ordinal)); // the forged line
        Assert.Empty(_dialogue.Messages);
    }

    [Fact]
    public async Task Json_escapes_the_servers_controls_and_still_gives_programs_the_exact_reply()
    {
        var result = await Send("--to", Recipient, "--text", "hi", "--json");

        Assert.True(result.ExitCode == 69, result.ToString());
        AssertNothingRaw(result.StdOut);
        Assert.Contains("\uFFFD[32mUser unknown\uFFFDS: 250 2.0.0 Ok: queued\\u0085 \\u202Eexe.txt", result.StdOut);
        using var json = JsonDocument.Parse(result.StdOut);
        var recipient = json.RootElement.GetProperty("recipients").EnumerateArray().Single();
        Assert.Equal("\uFFFD[32mUser unknown\uFFFDS: 250 2.0.0 Ok: queued\u0085 \u202Eexe.txt", recipient.GetProperty("replyText").GetString());
        Assert.Equal("5.1.1", recipient.GetProperty("enhancedStatusCode").GetString());
    }

    [Theory]
    [InlineData("Hello\u001b[2Jworld", "U+001B at position 5")]
    [InlineData("Line one\rBcc: everyone@example.test", "U+000D at position 8")]
    [InlineData("Next\u0085line", "U+0085 at position 4")]
    public async Task A_control_character_in_the_subject_exits_65_with_one_line_and_nothing_sent(string subject, string where)
    {
        var result = await Send("--to", Recipient, "--subject", subject, "--text", "hi");

        Assert.True(result.ExitCode == 65, result.ToString());
        var error = result.StdErr.TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("directmail: --subject: The subject contains the control character " + where + ";", error);
        AssertNothingRaw(result.StdErr);
        Assert.Empty(result.StdOut);
        Assert.Equal(0, _server!.Accepted);
    }

    [Fact]
    public async Task A_control_character_in_an_attachments_file_name_exits_65_with_the_name_escaped_and_nothing_sent()
    {
        var directory = Directory.CreateTempSubdirectory("directmail-cli-").FullName;
        var path = Path.Combine(directory, "report\u001b]0;x\u0007.csv");
        await File.WriteAllTextAsync(path, "a,b\n");

        var result = await Send("--to", Recipient, "--text", "hi", "--attach", path);

        Assert.True(result.ExitCode == 65, result.ToString());
        var error = result.StdErr.TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith($@"directmail: --attach '{directory}/report\x1b]0;x\x07.csv': The file name contains the control character U+001B at position 6;", error);
        AssertNothingRaw(result.StdErr);
        Assert.Equal(0, _server!.Accepted);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task The_librarys_own_transcript_log_escapes_server_lines_for_every_log_sink()
    {
        var logger = new ListLogger();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new ListLoggerProvider(logger)));
        var options = new DirectMailOptions { HeloName = "client.cli.test", Port = 10025, TlsMode = SmtpTlsMode.None, AllowPrivateTargets = true, MaxRetryAttempts = 0 };
        options.NameServers.Add("127.0.28.11:10053");
        await using (var mailer = new DirectMailer(options, loggerFactory: factory))
        {
            var report = await mailer.SendAsync(new SmtpEnvelope(Sender, Recipient), SmtpContent.FromBytes("Subject: x\r\n\r\nhi\r\n"u8.ToArray()));
            Assert.Equal(1, report.FailedCount);
        }

        var lines = logger.Entries.Where(e => e.Id.Id == DirectMailLogEvents.SmtpServerLine).Select(e => e.Message).ToList();
        Assert.Equal(@"S: 220 mx.evil.test ESMTP \x1b]0;owned\x07\x1b[2J", lines[0]);
        Assert.Contains(@"S: 550 5.1.1 \x1b[32mUser unknown\x0dS: 250 2.0.0 Ok: queued\x85 \u202eexe.txt", lines);
    }

    [Theory]
    [InlineData("250 Ok", "250 Ok")]
    [InlineData("tab\tkept, backslash \\ kept, é 中 kept", "tab\tkept, backslash \\ kept, é 中 kept")]
    [InlineData("\u001b]0;t\u0007", "\\x1b]0;t\\x07")]
    [InlineData("a\rS: b\nC: c", "a\\x0dS: b\\x0aC: c")]
    [InlineData("\u0000\u007f\u0080\u009b\u0085", "\\x00\\x7f\\x80\\x9b\\x85")]
    [InlineData("\u202a\u202e\u2066\u2069\u200e\u200f\u061c\u2028\u2029", "\\u202a\\u202e\\u2066\\u2069\\u200e\\u200f\\u061c\\u2028\\u2029")]
    public void DisplayText_escapes_what_could_control_a_terminal_or_forge_a_line(string text, string shown)
    {
        Assert.Equal(shown, DirectMail.Diagnostics.DisplayText.Escape(text));
    }

    /// <summary>No C0 control but LF, no DEL, no C1 control, no bidirectional control.</summary>
    private static void AssertNothingRaw(string output)
    {
        foreach (var c in output)
        {
            Assert.False(
                (c < ' ' && c != '\n') || c is >= '\u007f' and <= '\u009f' || c is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069'),
                $"U+{(int)c:X4} printed raw:\n{output}");
        }
    }

    private static Task<CliResult> Send(params string[] args) => CliRunner.RunAsync(
        ["send", "--from", Sender, "--helo", "client.cli.test", "--dns", "127.0.28.11:10053", "--port", "10025", "--tls", "none", "--allow-private-targets", .. args]);
}
