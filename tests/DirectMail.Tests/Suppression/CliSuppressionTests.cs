using System;
using System.IO;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Tests.Cli;

namespace DirectMail.Tests.Suppression;

/// <summary>
/// <c>directmail bounce parse|ingest</c> and <c>directmail suppression list|add|remove</c> on a SQLite queue
/// directory: a corpus bounce ingested puts its hard bounce (only) on the list, which the other commands show and change.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CliSuppressionTests : IDisposable
{
    private readonly string _queue = Directory.CreateTempSubdirectory("dm-cli-suppress-").FullName;
    private static readonly string Bounce = Path.Combine(AppContext.BaseDirectory, "Dsn", "corpus", "postfix-dsn.eml");

    public void Dispose() => Directory.Delete(_queue, recursive: true);

    [Fact]
    public async Task A_bounce_ingested_puts_its_hard_bounce_on_the_list_and_the_list_can_be_changed()
    {
        var parsed = await CliRunner.RunAsync("bounce", "parse", Bounce, "--json");
        Assert.True(parsed.ExitCode == 0, parsed.ToString());
        using (var json = JsonDocument.Parse(parsed.StdOut))
        {
            Assert.Equal("dsn", json.RootElement.GetProperty("kind").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("recipients").GetArrayLength());
            Assert.True(json.RootElement.GetProperty("recipients")[0].GetProperty("hardBounce").GetBoolean());
        }

        var ingested = await CliRunner.RunAsync("bounce", "ingest", Bounce, "--queue", _queue);
        Assert.True(ingested.ExitCode == 0, ingested.ToString());
        Assert.Contains("jane@example.org  failed  5.1.1  InvalidRecipient (hard)  suppressed", ingested.StdOut, StringComparison.Ordinal);
        Assert.Contains("full@example.net  delayed  4.2.2  MailboxFull  not suppressed", ingested.StdOut, StringComparison.Ordinal);

        Assert.True((await CliRunner.RunAsync("suppression", "add", "Ops@Example.COM", "--queue", _queue, "--note", "asked to stop")).ExitCode == 0);
        var list = await CliRunner.RunAsync("suppression", "list", "--queue", _queue, "--json");
        using (var json = JsonDocument.Parse(list.StdOut))
        {
            var entries = json.RootElement.GetProperty("entries");
            Assert.Equal(2, entries.GetArrayLength());
            Assert.Equal(("Ops@example.com", "manual", "asked to stop"), (entries[0].GetProperty("address").GetString(), entries[0].GetProperty("source").GetString(), entries[0].GetProperty("diagnostic").GetString()));
            Assert.Equal(("jane@example.org", "bounce", "5.1.1", "q7f3a"), (entries[1].GetProperty("address").GetString(), entries[1].GetProperty("source").GetString(), entries[1].GetProperty("status").GetString(), entries[1].GetProperty("queueId").GetString()));
        }

        Assert.Equal(0, (await CliRunner.RunAsync("suppression", "remove", "jane@EXAMPLE.org", "--queue", _queue)).ExitCode);
        Assert.Equal(66, (await CliRunner.RunAsync("suppression", "remove", "jane@example.org", "--queue", _queue)).ExitCode);
        var text = await CliRunner.RunAsync("suppression", "list", "--queue", _queue);
        Assert.StartsWith("Ops@example.com  manual  Other  -  since ", text.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("jane@", text.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_of_a_queue_that_does_not_exist_is_an_error_not_an_empty_list()
    {
        var result = await CliRunner.RunAsync("suppression", "list", "--queue", Path.Combine(_queue, "typo"));

        Assert.Equal(66, result.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(_queue, "typo")));
    }
}
