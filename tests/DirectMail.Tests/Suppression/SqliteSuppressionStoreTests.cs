using System;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;
using DirectMail.Suppression;

namespace DirectMail.Tests.Suppression;

/// <summary>
/// The SQLite store keeps the contract, in the queue's own database beside a working queue, and what it keeps survives
/// the store being opened again.
/// </summary>
public sealed class SqliteSuppressionStoreTests : SuppressionStoreContractTests, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-suppress-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteSuppressionStore _store;

    public SqliteSuppressionStoreTests() => _store = new SqliteSuppressionStore(_directory);

    protected override ISuppressionStore Store => _store;

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_list_lives_in_the_queue_database_beside_the_queue_and_survives_a_reopen()
    {
        await using (var queueStore = new SqliteMailQueueStore(_directory))
        {
            // The queue, created after the list's table in the same file, works as ever (its schema is its own).
            var queue = new MailQueue(queueStore);
            var id = await queue.EnqueueAsync(new SmtpEnvelope("a@client.test", "b@example.net"), SmtpContent.FromBytes("Subject: x\r\n\r\nx\r\n"u8.ToArray()));
            Assert.NotNull(await queue.GetAsync(id));
            await _store.AddAsync(Bounced("gone@example.net"));
        }

        Assert.Single(Directory.GetFiles(_directory, "*.db"));
        using var reopened = new SqliteSuppressionStore(_directory);
        Assert.Equal(At, (await reopened.FindAsync("gone@example.net"))?.SuppressedAt);
    }
}
