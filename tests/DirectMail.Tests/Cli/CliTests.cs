using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Cli;

/// <summary>
/// The directmail tool run as a process, as a user runs it, against real servers on loopback: NSD for DNS (always
/// <c>--dns</c>) and a scripted SMTP server (always <c>--allow-private-targets --port 10025</c>). Exit codes, the text
/// and the JSON printed, the SMTP trace, what the server stored, and one-line errors.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CliTests(CliServers servers)
{
    private const string Sender = "sender@client.cli.test";

    // ---- mx ----

    [Fact]
    public async Task Mx_lists_the_targets_in_order_with_preferences_addresses_and_scopes()
    {
        var result = await CliRunner.RunAsync("mx", "twomx.cli.test", "--dns", CliServers.Dns);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains("twomx.cli.test: 2 targets", lines);
        var first = lines.FindIndex(l => l.Trim() == "10  mx1.twomx.cli.test");
        var second = lines.FindIndex(l => l.Trim() == "20  mx2.twomx.cli.test");
        Assert.True(first >= 0 && second > first, result.ToString());
        Assert.Matches(@"^\s+127\.0\.28\.1\s+loopback$", lines[first + 1]);
        Assert.Matches(@"^\s+127\.0\.28\.2\s+loopback$", lines[first + 2]);
        Assert.Matches(@"^\s+127\.0\.28\.3\s+loopback$", lines[second + 1]);
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public async Task Mx_json_has_the_status_targets_and_addresses()
    {
        var result = await CliRunner.RunAsync("mx", "twomx.cli.test", "--dns", CliServers.Dns, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var root = json.RootElement;
        Assert.Equal("twomx.cli.test", root.GetProperty("domain").GetString());
        Assert.Equal("success", root.GetProperty("status").GetString());
        Assert.False(root.GetProperty("implicitMx").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("failureReply").ValueKind);
        var targets = root.GetProperty("targets").EnumerateArray().ToList();
        Assert.Equal(["mx1.twomx.cli.test", "mx2.twomx.cli.test"], targets.Select(t => t.GetProperty("host").GetString()));
        Assert.Equal([10, 20], targets.Select(t => t.GetProperty("preference").GetInt32()));
        Assert.Equal(["127.0.28.1", "127.0.28.2"], targets[0].GetProperty("addresses").EnumerateArray().Select(a => a.GetProperty("address").GetString()));
        Assert.All(targets.SelectMany(t => t.GetProperty("addresses").EnumerateArray()), a => Assert.Equal("loopback", a.GetProperty("scope").GetString()));
    }

    [Fact]
    public async Task Mx_explains_an_implicit_MX()
    {
        var result = await CliRunner.RunAsync("mx", "implicit.cli.test", "--dns", CliServers.Dns);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("implicit.cli.test: 1 target (implicit MX)", result.StdOut);
        Assert.Contains("no MX records", result.StdOut);
        Assert.Contains("127.0.28.4", result.StdOut);
    }

    [Fact]
    public async Task Mx_explains_a_null_MX_and_exits_69()
    {
        var text = await CliRunner.RunAsync("mx", "nullmx.cli.test", "--dns", CliServers.Dns);
        var json = await CliRunner.RunAsync("mx", "nullmx.cli.test", "--dns", CliServers.Dns, "--json");

        Assert.True(text.ExitCode == 69, text.ToString());
        Assert.Contains("null MX", text.StdOut);
        Assert.Contains("accepts no mail", text.StdOut);
        Assert.DoesNotContain("127.0.28.5", text.StdOut);
        Assert.True(json.ExitCode == 69, json.ToString());
        using var document = JsonDocument.Parse(json.StdOut);
        Assert.Equal("null-mx", document.RootElement.GetProperty("status").GetString());
        Assert.Empty(document.RootElement.GetProperty("targets").EnumerateArray());
        Assert.Equal(556, document.RootElement.GetProperty("failureReply").GetProperty("code").GetInt32());
        Assert.Equal("5.1.10", document.RootElement.GetProperty("failureReply").GetProperty("enhancedStatusCode").GetString());
    }

    [Fact]
    public async Task Mx_explains_NXDOMAIN_and_exits_69()
    {
        var text = await CliRunner.RunAsync("mx", "nosuch.cli.test", "--dns", CliServers.Dns);
        var json = await CliRunner.RunAsync("mx", "nosuch.cli.test", "--dns", CliServers.Dns, "--json");

        Assert.True(text.ExitCode == 69, text.ToString());
        Assert.Contains("does not exist (NXDOMAIN)", text.StdOut);
        Assert.True(json.ExitCode == 69, json.ToString());
        using var document = JsonDocument.Parse(json.StdOut);
        Assert.Equal("domain-not-found", document.RootElement.GetProperty("status").GetString());
        Assert.False(document.RootElement.GetProperty("transient").GetBoolean());
        Assert.Equal(550, document.RootElement.GetProperty("failureReply").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Mx_explains_an_MX_host_without_an_address_and_exits_69()
    {
        // README: `mx` exits 69 when the domain has no usable target (here its only MX host has no A or AAAA record).
        var text = await CliRunner.RunAsync("mx", "noaddress.cli.test", "--dns", CliServers.Dns);
        var json = await CliRunner.RunAsync("mx", "noaddress.cli.test", "--dns", CliServers.Dns, "--json");

        Assert.True(text.ExitCode == 69, text.ToString());
        Assert.Contains("mx.noaddress.cli.test", text.StdOut);
        Assert.True(json.ExitCode == 69, json.ToString());
        using var document = JsonDocument.Parse(json.StdOut);
        Assert.Equal("no-usable-targets", document.RootElement.GetProperty("status").GetString());
        Assert.Empty(document.RootElement.GetProperty("targets").EnumerateArray());
    }

    [Fact]
    public async Task Mx_explains_a_transient_DNS_failure_and_exits_75()
    {
        // NSD is authoritative only: a name outside its zone is REFUSED, a DNS failure that may pass.
        var result = await CliRunner.RunAsync("mx", "elsewhere.invalid", "--dns", CliServers.Dns, "--json");

        Assert.True(result.ExitCode == 75, result.ToString());
        using var document = JsonDocument.Parse(result.StdOut);
        Assert.Equal("dns-failure", document.RootElement.GetProperty("status").GetString());
        Assert.True(document.RootElement.GetProperty("transient").GetBoolean());
        Assert.Contains("may pass", document.RootElement.GetProperty("explanation").GetString());
    }

    [Fact]
    public async Task Mx_of_an_invalid_domain_exits_65_with_one_line()
    {
        var result = await CliRunner.RunAsync("mx", "bad_domain!", "--dns", CliServers.Dns);

        Assert.True(result.ExitCode == 65, result.ToString());
        AssertOneLineError(result, "directmail: 'bad_domain!' is not a domain name");
        Assert.Empty(result.StdOut);
    }

    // ---- send ----

    [Fact]
    public async Task Send_delivers_and_prints_the_report_as_json()
    {
        servers.Reset();
        var attachment = TempFile("report.csv", "a,b\r\n1,2\r\n");
        var html = TempFile("body.html", "<p>Hello <b>there</b></p>");

        var result = await Send(
            "--to", "Alice <alice@mail.cli.test>", "--subject", "CLI json test", "--text", "Hello from the CLI test.",
            "--html-file", html, "--attach", attachment, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("delivered").GetInt32());
        Assert.Equal(0, root.GetProperty("deferred").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.Empty(root.GetProperty("diagnostics").EnumerateArray());
        var r = Assert.Single(root.GetProperty("recipients").EnumerateArray());
        Assert.Equal("alice@mail.cli.test", r.GetProperty("address").GetString());
        Assert.Equal("delivered", r.GetProperty("status").GetString());
        Assert.Equal(250, r.GetProperty("replyCode").GetInt32());
        Assert.Equal("2.0.0", r.GetProperty("enhancedStatusCode").GetString());
        Assert.Equal("Ok: queued as 4XyZ", r.GetProperty("replyText").GetString());
        Assert.Equal("mx.mail.cli.test", r.GetProperty("mxHost").GetString());
        Assert.Equal("127.0.28.10", r.GetProperty("ip").GetString());

        var stored = Encoding.UTF8.GetString(Assert.Single(servers.Dialogue.Messages));
        Assert.Contains("Subject: CLI json test\r\n", stored);
        Assert.Contains("From: " + Sender + "\r\n", stored);
        Assert.Contains("To: Alice <alice@mail.cli.test>\r\n", stored);
        Assert.Contains("Hello from the CLI test.", stored);
        Assert.Contains("text/html", stored);
        Assert.Contains("filename=report.csv", stored.Replace("\"", string.Empty, StringComparison.Ordinal));
        Assert.Contains(servers.Dialogue.Commands, c => c.StartsWith("MAIL FROM:<" + Sender + ">", StringComparison.Ordinal));
        Assert.Contains("RCPT TO:<alice@mail.cli.test>", servers.Dialogue.Commands);
    }

    [Fact]
    public async Task Send_trace_prints_the_conversation_with_the_host_and_address()
    {
        servers.Reset();

        var result = await Send("--to", "bob@mail.cli.test", "--subject", "traced", "--text", "hi", "--trace");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var header = lines.IndexOf("--- mx.mail.cli.test [127.0.28.10:10025]");
        Assert.True(header >= 0, result.ToString());
        Assert.Equal("S: 220 mx.test ESMTP", lines[header + 1]);
        Assert.Equal("C: EHLO client.cli.test", lines[header + 2]);
        Assert.Contains("S: 250-PIPELINING", lines);
        Assert.Contains(lines, l => l.StartsWith("C: MAIL FROM:<" + Sender + ">", StringComparison.Ordinal));
        Assert.Contains("C: RCPT TO:<bob@mail.cli.test>", lines);
        Assert.Contains(lines, l => l.StartsWith("C: <", StringComparison.Ordinal) && l.EndsWith(" octets of message content>", StringComparison.Ordinal));
        Assert.Contains("S: 250 2.0.0 Ok: queued as 4XyZ", lines);
        Assert.Contains("C: QUIT", lines);
        Assert.Contains("bob@mail.cli.test: delivered, 250 2.0.0 Ok: queued as 4XyZ, via mx.mail.cli.test [127.0.28.10]", lines);
        Assert.Single(servers.Dialogue.Messages);
    }

    [Fact]
    public async Task Send_trace_with_json_keeps_stdout_for_the_json()
    {
        servers.Reset();

        var result = await Send("--to", "frank@mail.cli.test", "--text", "hi", "--trace", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal(1, json.RootElement.GetProperty("delivered").GetInt32());
        Assert.StartsWith("--- mx.mail.cli.test [127.0.28.10:10025]\n", result.StdErr.ReplaceLineEndings("\n"));
        Assert.Contains("C: RCPT TO:<frank@mail.cli.test>", result.StdErr);
    }

    [Fact]
    public async Task Send_with_a_permanently_refused_recipient_exits_69()
    {
        servers.Reset();

        var result = await Send("--to", "carol@mail.cli.test", "--cc", "bounce@mail.cli.test", "--text", "hi", "--json");

        Assert.True(result.ExitCode == 69, result.ToString());
        using var json = JsonDocument.Parse(result.StdOut);
        var recipients = json.RootElement.GetProperty("recipients").EnumerateArray().ToList();
        Assert.Equal(["carol@mail.cli.test", "bounce@mail.cli.test"], recipients.Select(r => r.GetProperty("address").GetString()));
        Assert.Equal(["delivered", "failed"], recipients.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(550, recipients[1].GetProperty("replyCode").GetInt32());
        Assert.Equal("5.1.1", recipients[1].GetProperty("enhancedStatusCode").GetString());
        Assert.Contains("User unknown", recipients[1].GetProperty("replyText").GetString());
        Assert.Equal("127.0.28.10", recipients[1].GetProperty("ip").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("failed").GetInt32());
        Assert.Single(servers.Dialogue.Messages); // carol's copy
    }

    [Fact]
    public async Task Send_with_a_deferred_recipient_and_none_failed_exits_75()
    {
        servers.Reset();

        var result = await Send("--to", "dave@mail.cli.test", "--bcc", "later@mail.cli.test", "--text", "hi");

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains("dave@mail.cli.test: delivered", result.StdOut);
        Assert.Contains("later@mail.cli.test: deferred, 451 4.7.1", result.StdOut);
        Assert.Contains("1 delivered, 1 deferred, 0 failed", result.StdOut);
        Assert.Contains("send to them again", result.StdOut);
        var stored = Encoding.UTF8.GetString(servers.Dialogue.Messages.First());
        Assert.DoesNotContain("later@", stored); // Bcc is not a header
    }

    [Fact]
    public async Task Send_eml_sends_the_file_as_it_is()
    {
        servers.Reset();
        var text = "From: Someone <" + Sender + ">\nTo: erin@mail.cli.test\nSubject: raw\nMessage-ID: <raw-1@client.cli.test>\n\nLine one\n.leading dot\r\nlast line\n";
        var eml = TempFile("message.eml", text);

        var result = await Send("--to", "erin@mail.cli.test", "--eml", eml);

        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.Equal(expected, Assert.Single(servers.Dialogue.Messages));
        Assert.Contains("RCPT TO:<erin@mail.cli.test>", servers.Dialogue.Commands);
    }

    // ---- bad input ----

    [Theory]
    [InlineData("--to", "not an address")]
    [InlineData("--to", "someone@")]
    [InlineData("--from", "nobody")]
    public async Task An_invalid_address_exits_65_with_one_line_and_no_stack_trace(string option, string value)
    {
        string[] args = option == "--from"
            ? ["send", "--from", value, "--to", "x@mail.cli.test", "--helo", "client.cli.test"]
            : ["send", "--from", Sender, option, value, "--helo", "client.cli.test"];

        var result = await CliRunner.RunAsync(args);

        Assert.True(result.ExitCode == 65, result.ToString());
        AssertOneLineError(result, $"directmail: {option} '{value}' is not a valid address");
        Assert.Empty(result.StdOut);
    }

    [Theory]
    [InlineData("--attach")]
    [InlineData("--eml")]
    [InlineData("--text-file")]
    public async Task A_missing_file_exits_65_with_one_line(string option)
    {
        var missing = Path.Combine(Path.GetTempPath(), "directmail-cli-missing-" + Guid.NewGuid().ToString("N") + ".txt");

        var result = await Send("--to", "x@mail.cli.test", option, missing);

        Assert.True(result.ExitCode == 65, result.ToString());
        AssertOneLineError(result, $"directmail: {option} '{missing}': cannot read the file: it does not exist");
    }

    [Theory]
    [InlineData("send", "--from", Sender, "--to", "x@mail.cli.test", "--frobnicate")]
    [InlineData("send", "--to", "x@mail.cli.test")]
    [InlineData("send", "--from", Sender)]
    [InlineData("send", "--from", Sender, "--to", "x@mail.cli.test", "--text", "a", "--text-file", "b.txt")]
    [InlineData("send", "--from", Sender, "--to", "x@mail.cli.test", "--tls", "sometimes")]
    [InlineData("send", "--from", Sender, "--to", "x@mail.cli.test", "--port", "many")]
    [InlineData("dkim")]
    [InlineData("dkim", "keygen", "--selector", "s1")]
    [InlineData("doctor")]
    [InlineData("mx")]
    [InlineData("nonsense")]
    public async Task A_usage_error_exits_64_with_one_line(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.True(result.ExitCode == 64, result.ToString());
        AssertOneLineError(result, "directmail");
        Assert.Contains("--help", result.StdErr);
    }

    [Fact]
    public async Task Help_is_on_every_command()
    {
        foreach (var command in new[] { "mx", "send", "doctor", "dkim", "dkim keygen", "demo" })
        {
            var result = await CliRunner.RunAsync([.. command.Split(' '), "--help"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("Usage:\n  directmail " + command, result.StdOut.ReplaceLineEndings("\n"));
        }
    }

    // ---- demo ----

    [Fact]
    public async Task Demo_delivers_offline_and_prints_the_received_message()
    {
        var result = await CliRunner.RunAsync(TimeSpan.FromSeconds(30), "demo");

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = result.StdOut.ReplaceLineEndings("\n");
        Assert.Matches(@"--- mx\.demo\.test \[127\.0\.0\.1:\d+\]\nS: 220 ", output);
        Assert.Contains("C: EHLO client.sender.test", output);
        Assert.Contains("C: RCPT TO:<someone@demo.test>", output);
        Assert.Contains("C: QUIT", output);
        Assert.Contains("someone@demo.test: delivered", output);
        var received = output[output.IndexOf("The message as mx.demo.test received it:", StringComparison.Ordinal)..];
        Assert.Contains("From: DirectMail demo <demo@sender.test>\n", received);
        Assert.Contains("Subject: Hello from DirectMail\n", received);
        Assert.Contains("\n.A line that starts with a dot arrives intact.\n", received);
        Assert.Empty(result.StdErr);
    }

    private static Task<CliResult> Send(params string[] args) => CliRunner.RunAsync(
        ["send", "--from", Sender, "--helo", "client.cli.test", "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", .. args]);

    private static void AssertOneLineError(CliResult result, string start)
    {
        var error = result.StdErr.TrimEnd('\r', '\n');
        Assert.False(error.Contains('\n', StringComparison.Ordinal), "Not one line:\n" + result);
        Assert.StartsWith(start, error);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
    }

    private static string TempFile(string name, string content)
    {
        var directory = Directory.CreateTempSubdirectory("directmail-cli-").FullName;
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
