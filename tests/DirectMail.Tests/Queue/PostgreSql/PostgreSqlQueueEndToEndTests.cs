using System;
using System.IO;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using DirectMail.Smtp;
using DirectMail.Tests.Cli;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DirectMail.Tests.Queue.PostgreSql;

/// <summary>
/// The queue over the real PostgreSQL store, through the real mailer, to the aiosmtpd greylisting server on
/// 127.0.29.240+: a message enqueued by one instance is delivered by another after greylisting, with the stored bytes;
/// the outbox and AddPostgreSqlQueue end to end; and the CLI's --queue with a connection string.
/// </summary>
[Collection(PostgreSqlCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostgreSqlQueueEndToEndTests
{
    private static int _nextAddress = 240;
    private static int _nextSchema;
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: sender@client.test\r\nTo: someone@grey.test\r\nSubject: shared\r\n\r\nKept in PostgreSQL.\r\n");
    private readonly string _connectionString;
    private readonly string _schema = "e" + Interlocked.Increment(ref _nextSchema);

    public PostgreSqlQueueEndToEndTests(PostgreSqlFixture fixture) => _connectionString = fixture.Database(typeof(PostgreSqlQueueEndToEndTests));

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.29.{Interlocked.Increment(ref _nextAddress)}");

    private static MailQueueOptions Options()
    {
        var options = new MailQueueOptions { RetryJitter = 0, MinimumHintedDelay = TimeSpan.FromSeconds(1) };
        options.RetryIntervals.Add(TimeSpan.FromSeconds(3));
        return options;
    }

    private PostgreSqlMailQueueStore OpenStore() => new(_connectionString, new PostgreSqlMailQueueStoreOptions { SchemaName = _schema });

    [Fact]
    public async Task A_message_enqueued_in_the_application_transaction_is_delivered_by_another_instance_after_greylisting()
    {
        var address = NewAddress();
        using var greylist = new GreylistServer(address, TimeSpan.FromSeconds(2));
        var resolver = new TableResolver { ["grey.test"] = [("mx.grey.test", 10, address)] };

        // The application instance: the mail commits with its own row.
        string id;
        await using (var store = OpenStore())
        await using (var queue = new MailQueue(store, Options()))
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            id = await queue.EnqueueAsync(new SmtpEnvelope("sender@client.test", "someone@grey.test"), SmtpContent.FromBytes(Body), transaction);
            await transaction.CommitAsync();
        }

        // A worker instance with a store of its own on the same database.
        await using (var store = OpenStore())
        await using (var queue = new MailQueue(store, Options()))
        await using (var mailer = new DirectMailer(LoopbackMailerOptions.Create(TestAddresses.Delivery.Port), resolver))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await new MailQueueWorker(queue, mailer).RunUntilEmptyAsync(timeout.Token);
        }

        var stored = Assert.Single(greylist.Messages());
        Assert.Equal(Body, stored.Content);
        Assert.Equal(["someone@grey.test"], stored.Recipients);
        Assert.Equal(2, greylist.RcptLog.Count);
        await using (var store = OpenStore())
        {
            var r = Assert.Single((await store.GetAsync(id, default))!.Recipients);
            Assert.Equal(QueueRecipientState.Delivered, r.State);
            Assert.Equal(QueueRecipientState.Deferred, r.Attempts[0].Outcome);
            Assert.StartsWith("450 4.2.0 <someone@grey.test>", r.Attempts[0].Reply, StringComparison.Ordinal);
            Assert.Equal("250 2.0.0 Ok: queued as GREY1", r.Attempts[1].Reply);
        }
    }

    [Fact]
    public async Task AddPostgreSqlQueue_hands_what_SendAsync_defers_to_the_store()
    {
        var address = NewAddress();
        using var greylist = new GreylistServer(address, TimeSpan.FromSeconds(60));
        var services = new ServiceCollection();
        services.AddSingleton<IMxResolver>(new TableResolver { ["grey.test"] = [("mx.grey.test", 10, address)] });
        services.AddDirectMail(o =>
        {
            o.HeloName = "client.test";
            o.Port = TestAddresses.Delivery.Port;
            o.AllowPrivateTargets = true;
            o.MaxRetryAttempts = 0;
            o.TlsMode = SmtpTlsMode.None;
        }).AddPostgreSqlQueue(_connectionString, configureStore: o => o.SchemaName = _schema);

        DeliveryReport report;
        await using (var provider = services.BuildServiceProvider())
        {
            report = await provider.GetRequiredService<IDirectMailer>().SendAsync(new SmtpEnvelope("sender@client.test", "someone@grey.test"), SmtpContent.FromBytes(Body));
        }

        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, recipient.Status);
        await using var store = OpenStore();
        var r = Assert.Single((await store.GetAsync(recipient.QueueId!, default))!.Recipients);
        Assert.Equal(QueueRecipientState.Deferred, r.State);
        Assert.StartsWith("450 4.2.0 <someone@grey.test>", Assert.Single(r.Attempts).Reply, StringComparison.Ordinal);
        await using var content = await store.OpenContentAsync(recipient.QueueId!, default);
        var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        Assert.Equal(Body, copy.ToArray());
    }

    [Fact]
    public async Task The_cli_takes_a_connection_string_or_a_uri_as_the_queue()
    {
        var eml = Path.Combine(Directory.CreateTempSubdirectory("directmail-cli-pg-").FullName, "message.eml");
        await File.WriteAllBytesAsync(eml, Body);
        var keywords = new NpgsqlConnectionStringBuilder(_connectionString);
        var uri = $"postgresql://{keywords.Username}@{keywords.Host}:{keywords.Port}/{keywords.Database}";

        var sent = await CliRunner.RunAsync("send", "--from", "sender@client.test", "--to", "someone@grey.test", "--eml", eml, "--queue", _connectionString);
        var listed = await CliRunner.RunAsync("queue", "list", "--queue", uri, "--json");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.True(listed.ExitCode == 0, listed.ToString());
        using var json = JsonDocument.Parse(listed.StdOut);
        var message = Assert.Single(json.RootElement.GetProperty("messages").EnumerateArray());
        Assert.Equal(sent.StdOut.Trim(), message.GetProperty("queueId").GetString());
        Assert.Equal(Body.Length, message.GetProperty("size").GetInt64());
        // The default schema, since the CLI names none.
        await using var store = new PostgreSqlMailQueueStore(_connectionString);
        Assert.NotNull(await store.GetAsync(sent.StdOut.Trim(), default));
    }
}
