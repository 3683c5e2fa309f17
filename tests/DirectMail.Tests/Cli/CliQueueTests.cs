using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace DirectMail.Tests.Cli;

/// <summary>
/// <c>directmail send --queue</c> and <c>directmail queue ...</c> run as processes over a real SQLite queue in a temporary
/// directory, delivering to the CLI tests' scripted SMTP server (NSD for DNS): the id printed, the states listed and
/// shown, the bytes the server stored, hold and release, delete, and usage errors.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CliQueueTests(CliServers servers)
{
    private const string Sender = "sender@client.cli.test";

    private const string Eml = "From: Someone <" + Sender + ">\r\nTo: quinn@mail.cli.test\r\nSubject: queued\r\nMessage-ID: <queued-1@client.cli.test>\r\n\r\nQueued line one\r\n.leading dot\r\nlast line\r\n";

    private readonly string _queue = Path.Combine(Directory.CreateTempSubdirectory("directmail-cli-queue-").FullName, "queue");

    [Fact]
    public async Task Send_queue_prints_the_id_sends_nothing_and_list_and_show_say_queued()
    {
        servers.Reset();

        var sent = await Enqueue("quinn@mail.cli.test");
        var id = sent.StdOut.Trim();
        var list = await CliRunner.RunAsync("queue", "list", "--queue", _queue);
        var listJson = await CliRunner.RunAsync("queue", "list", "--queue", _queue, "--json");
        var show = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue);

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Matches("^[0-9A-Z]+$", id);
        Assert.Empty(servers.Dialogue.Messages);
        Assert.Empty(servers.Dialogue.Commands);

        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = Lines(list.StdOut);
        Assert.StartsWith(id + "  ", lines[0]);
        Assert.Contains("from " + Sender, lines[0]);
        Assert.StartsWith("  quinn@mail.cli.test: queued, next attempt ", lines[1]);

        using var json = JsonDocument.Parse(listJson.StdOut);
        Assert.Equal(1, json.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("schemaVersion", json.RootElement.EnumerateObject().First().Name);
        var message = Assert.Single(json.RootElement.GetProperty("messages").EnumerateArray());
        Assert.Equal(id, message.GetProperty("queueId").GetString());
        Assert.Equal(Sender, message.GetProperty("sender").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(Eml), message.GetProperty("size").GetInt64());
        var recipient = Assert.Single(message.GetProperty("recipients").EnumerateArray());
        Assert.Equal("quinn@mail.cli.test", recipient.GetProperty("address").GetString());
        Assert.Equal("queued", recipient.GetProperty("state").GetString());
        Assert.Empty(recipient.GetProperty("attempts").EnumerateArray());

        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.StartsWith(id + ": from " + Sender + ", ", show.StdOut);
        Assert.Contains(Lines(show.StdOut), l => l.StartsWith("  quinn@mail.cli.test: queued, next attempt ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_queue_json_has_the_id_and_recipients()
    {
        var sent = await Enqueue("quinn@mail.cli.test", "--cc", "rory@mail.cli.test", "--json");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        using var json = JsonDocument.Parse(sent.StdOut);
        Assert.Equal(1, json.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("schemaVersion", json.RootElement.EnumerateObject().First().Name);
        Assert.Matches("^[0-9A-Z]+$", json.RootElement.GetProperty("queueId").GetString());
        Assert.Equal(["quinn@mail.cli.test", "rory@mail.cli.test"], json.RootElement.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Run_until_empty_delivers_the_stored_bytes_and_show_gives_the_servers_reply()
    {
        servers.Reset();
        var id = (await Enqueue("quinn@mail.cli.test")).StdOut.Trim();

        var run = await Run();
        var show = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue, "--json");
        var pending = await CliRunner.RunAsync("queue", "list", "--queue", _queue);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"{id} quinn@mail.cli.test: delivered, 250 2.0.0 Ok: queued as 4XyZ, via mx.mail.cli.test [127.0.28.10]", Lines(run.StdOut));
        Assert.Equal(Encoding.UTF8.GetBytes(Eml), Assert.Single(servers.Dialogue.Messages));
        Assert.Contains("RCPT TO:<quinn@mail.cli.test>", servers.Dialogue.Commands);

        Assert.True(show.ExitCode == 0, show.ToString());
        using var json = JsonDocument.Parse(show.StdOut);
        var recipient = Assert.Single(json.RootElement.GetProperty("recipients").EnumerateArray());
        Assert.Equal("delivered", recipient.GetProperty("state").GetString());
        var attempt = Assert.Single(recipient.GetProperty("attempts").EnumerateArray());
        Assert.Equal("delivered", attempt.GetProperty("outcome").GetString());
        Assert.Equal("250 2.0.0 Ok: queued as 4XyZ", attempt.GetProperty("reply").GetString());
        Assert.Equal("mx.mail.cli.test", attempt.GetProperty("mxHost").GetString());
        Assert.Equal("127.0.28.10", attempt.GetProperty("serverAddress").GetString());
        Assert.Equal("No pending messages.", pending.StdOut.Trim());
    }

    [Fact]
    public async Task Send_queue_fails_a_recipient_on_the_queues_suppression_list_at_once_and_says_so()
    {
        // Stops: the CLI queueing mail for an address 'directmail suppression add' (or a bounce) put on the list beside
        // that very queue, which 'queue run' would then send.
        servers.Reset();
        var add = await CliRunner.RunAsync("suppression", "add", "rory@MAIL.cli.test", "--queue", _queue, "--note", "asked to stop");

        var sent = await Enqueue("quinn@mail.cli.test", "--cc", "rory@mail.cli.test", "--json");
        var text = await Enqueue("rory@mail.cli.test");
        var run = await Run();

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.True(sent.ExitCode == 0, sent.ToString());
        using var json = JsonDocument.Parse(sent.StdOut);
        var id = json.RootElement.GetProperty("queueId").GetString();
        var failed = Assert.Single(json.RootElement.GetProperty("failed").EnumerateArray());
        Assert.Equal("rory@mail.cli.test", failed.GetProperty("address").GetString());
        Assert.StartsWith("550 5.7.1 DirectMail did not send to <rory@mail.cli.test>: it is on the suppression list since ", failed.GetProperty("reply").GetString());
        Assert.EndsWith(" (added by hand, Other): asked to stop", failed.GetProperty("reply").GetString());

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Matches("^[0-9A-Z]+$", text.StdOut.Trim());
        Assert.StartsWith("directmail: rory@mail.cli.test: not queued for delivery: 550 5.7.1 DirectMail did not send to <rory@mail.cli.test>", text.StdErr.Trim());

        // The worker delivers to quinn only; rory's copies were settled at enqueue.
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"{id} quinn@mail.cli.test: delivered, 250 2.0.0 Ok: queued as 4XyZ, via mx.mail.cli.test [127.0.28.10]", Lines(run.StdOut));
        Assert.Single(servers.Dialogue.Messages);
        Assert.Contains("RCPT TO:<quinn@mail.cli.test>", servers.Dialogue.Commands);
        Assert.DoesNotContain(servers.Dialogue.Commands, c => c.Contains("rory@", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Queue_run_fails_a_recipient_suppressed_after_its_message_was_queued()
    {
        // Stops: a recipient that hard-bounced (or asked to stop) after enqueue being mailed by the next run anyway.
        servers.Reset();
        var id = (await Enqueue("quinn@mail.cli.test", "--cc", "rory@mail.cli.test")).StdOut.Trim();
        var add = await CliRunner.RunAsync("suppression", "add", "rory@mail.cli.test", "--queue", _queue);

        var run = await Run();
        var show = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue, "--json");

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"{id} quinn@mail.cli.test: delivered, 250 2.0.0 Ok: queued as 4XyZ, via mx.mail.cli.test [127.0.28.10]", Lines(run.StdOut));
        var roryLine = Assert.Single(Lines(run.StdOut), l => l.Contains(" rory@", StringComparison.Ordinal));
        Assert.True(roryLine.StartsWith($"{id} rory@mail.cli.test: failed (550 5.7.1 DirectMail did not send to <rory@mail.cli.test>: it is on the suppression list since ", StringComparison.Ordinal), roryLine);
        Assert.EndsWith(" (added by hand, Other))", roryLine);
        Assert.Single(servers.Dialogue.Messages);
        Assert.DoesNotContain(servers.Dialogue.Commands, c => c.Contains("rory@", StringComparison.OrdinalIgnoreCase));
        using var json = JsonDocument.Parse(show.StdOut);
        var states = json.RootElement.GetProperty("recipients").EnumerateArray().Select(r => (r.GetProperty("address").GetString(), r.GetProperty("state").GetString())).ToList();
        Assert.Equal([("quinn@mail.cli.test", "delivered"), ("rory@mail.cli.test", "failed")], states);
    }

    [Fact]
    public async Task A_message_queued_with_a_DKIM_key_is_stored_signed_and_delivered_signed()
    {
        servers.Reset();
        var key = Path.Combine(Path.GetDirectoryName(_queue)!, "q1.client.cli.test.pem");
        var keygen = await CliRunner.RunAsync("dkim", "keygen", "--domain", "client.cli.test", "--selector", "q1", "--out", key);
        var id = (await Enqueue("quinn@mail.cli.test", "--dkim-key", key, "--dkim-selector", "q1")).StdOut.Trim();

        var run = await Run();

        Assert.True(keygen.ExitCode == 0, keygen.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith($"{id} quinn@mail.cli.test: delivered, 250 ", run.StdOut);
        var stored = Encoding.UTF8.GetString(Assert.Single(servers.Dialogue.Messages));
        Assert.StartsWith("DKIM-Signature: ", stored);
        Assert.Contains("d=client.cli.test;", stored);
        Assert.Contains("s=q1;", stored);
        Assert.EndsWith(Eml, stored);
    }

    [Fact]
    public async Task A_held_message_is_not_delivered_until_released()
    {
        servers.Reset();
        var id = (await Enqueue("quinn@mail.cli.test")).StdOut.Trim();

        var hold = await CliRunner.RunAsync("queue", "hold", id, "--queue", _queue);
        var heldRun = await Run();
        var held = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue);
        var sentWhileHeld = servers.Dialogue.Messages.Count;
        var release = await CliRunner.RunAsync("queue", "release", id, "--queue", _queue);
        var run = await Run();

        Assert.True(hold.ExitCode == 0, hold.ToString());
        Assert.Equal(id + ": 1 recipient held.", hold.StdOut.Trim());
        Assert.True(heldRun.ExitCode == 0, heldRun.ToString());
        Assert.Empty(heldRun.StdOut);
        Assert.Contains("  quinn@mail.cli.test: held", Lines(held.StdOut));
        Assert.Equal(0, sentWhileHeld);
        Assert.Equal(id + ": 1 recipient released.", release.StdOut.Trim());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith($"{id} quinn@mail.cli.test: delivered, 250 ", run.StdOut);
        Assert.Equal(Encoding.UTF8.GetBytes(Eml), Assert.Single(servers.Dialogue.Messages));
    }

    [Fact]
    public async Task A_deleted_message_is_an_unknown_id_exit_66()
    {
        var id = (await Enqueue("quinn@mail.cli.test", "--cc", "rory@mail.cli.test")).StdOut.Trim();

        var delete = await CliRunner.RunAsync("queue", "delete", id, "--queue", _queue);
        var show = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue);
        var bounce = await CliRunner.RunAsync("queue", "bounce", id, "--queue", _queue);

        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal(id + ": 2 recipients deleted.", delete.StdOut.Trim());
        Assert.True(show.ExitCode == 66, show.ToString());
        Assert.Equal($"directmail: no message '{id}' in the queue", show.StdErr.Trim()[..($"directmail: no message '{id}' in the queue".Length)]);
        Assert.Single(Lines(show.StdErr));
        Assert.Empty(show.StdOut);
        Assert.True(bounce.ExitCode == 66, bounce.ToString());
    }

    [Fact]
    public async Task Bounce_fails_the_pending_recipients_and_says_how_many()
    {
        servers.Reset();
        var id = (await Enqueue("quinn@mail.cli.test", "--cc", "rory@mail.cli.test")).StdOut.Trim();

        var bounce = await CliRunner.RunAsync("queue", "bounce", id, "--queue", _queue);
        var run = await Run();
        var show = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue);

        Assert.True(bounce.ExitCode == 0, bounce.ToString());
        Assert.Equal(id + ": 2 recipients bounced.", bounce.StdOut.Trim());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(servers.Dialogue.Messages);
        Assert.Contains("  quinn@mail.cli.test: failed", Lines(show.StdOut));
        Assert.Contains("  rory@mail.cli.test: failed", Lines(show.StdOut));
    }

    [Fact]
    public async Task A_greylisted_recipient_is_retried_on_the_schedule_and_expires_at_the_max_age()
    {
        servers.Reset();
        var id = (await Enqueue("later@mail.cli.test", "--max-age", "4s")).StdOut.Trim();

        var run = await Run("--retry-schedule", "1s");

        Assert.True(run.ExitCode == 0, run.ToString());
        // Every attempt is one line: deferred until the last, at the maximum age, which expires (how many fit in
        // 4 s depends on the machine's speed; the order and the replies do not).
        var lines = Lines(run.StdOut);
        const string Reply = "451 4.7.1 <later@mail.cli.test>: Recipient address rejected: Greylisted, try again later, via mx.mail.cli.test [127.0.28.10]";
        Assert.All(lines[..^1], l => Assert.True(l.StartsWith($"{id} later@mail.cli.test: deferred, {Reply}", StringComparison.Ordinal) && l.Contains(", next attempt ", StringComparison.Ordinal), run.ToString()));
        Assert.True(lines[^1].StartsWith($"{id} later@mail.cli.test: expired, {Reply}", StringComparison.Ordinal), run.ToString());
        // Each attempt reached the server (the mailer may make more than one RCPT per attempt: its own retries).
        Assert.True(servers.Dialogue.Commands.Count(c => c == "RCPT TO:<later@mail.cli.test>") >= lines.Count, run.ToString());
        Assert.Empty(servers.Dialogue.Messages);
    }

    [Fact]
    public async Task Run_max_age_shortens_the_life_of_a_message_queued_with_the_default()
    {
        servers.Reset();
        var id = (await Enqueue("later@mail.cli.test")).StdOut.Trim();
        var show = await CliRunner.RunAsync("queue", "show", id, "--queue", _queue, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());

        // Queued to live 5 days; the worker's 3 s wins, so the run ends with the recipient expired within seconds.
        var run = await Run("--retry-schedule", "1s", "--max-age", "3s");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = Lines(run.StdOut);
        Assert.True(lines[^1].StartsWith($"{id} later@mail.cli.test: expired, 451 4.7.1 <later@mail.cli.test>: Recipient address rejected: Greylisted", StringComparison.Ordinal), run.ToString());
        Assert.All(lines[..^1], l => Assert.StartsWith($"{id} later@mail.cli.test: deferred, ", l));
        Assert.Empty(servers.Dialogue.Messages);
    }

    [Theory]
    [InlineData("2s,x")]
    [InlineData("0s")]
    [InlineData("5")]
    [InlineData("1w")]
    public async Task A_bad_retry_schedule_is_a_usage_error_before_the_queue_is_touched(string schedule)
    {
        var result = await Run("--retry-schedule", schedule);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.StartsWith("directmail queue run: --retry-schedule '" + schedule + "': ", result.StdErr);
        Assert.Single(Lines(result.StdErr));
        Assert.False(Directory.Exists(_queue));
    }

    [Fact]
    public async Task Max_age_without_queue_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync("send", "--from", Sender, "--to", "quinn@mail.cli.test", "--text", "x", "--max-age", "1d");

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains("--max-age", result.StdErr);
    }

    [Fact]
    public async Task A_queue_directory_that_does_not_exist_is_exit_66_and_is_not_created()
    {
        var result = await CliRunner.RunAsync("queue", "list", "--queue", _queue);

        Assert.True(result.ExitCode == 66, result.ToString());
        Assert.StartsWith($"directmail: --queue '{_queue}': there is no queue there", result.StdErr);
        Assert.False(Directory.Exists(_queue));
    }

    private async Task<CliResult> Enqueue(string to, params string[] args)
    {
        var eml = Path.Combine(Path.GetDirectoryName(_queue)!, "message.eml");
        await File.WriteAllTextAsync(eml, Eml);
        return await CliRunner.RunAsync(["send", "--from", Sender, "--to", to, "--eml", eml, "--queue", _queue, .. args]);
    }

    private Task<CliResult> Run(params string[] args) => CliRunner.RunAsync(
        ["queue", "run", "--queue", _queue, "--until-empty", "--helo", "client.cli.test", "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", .. args]);

    private static List<string> Lines(string text) =>
        text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').Where(l => l.Length > 0).ToList();
}
