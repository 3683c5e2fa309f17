using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Queue.Sqlite;

/// <summary>The store contract on SQLite, and what only the SQLite store has: its file, its schema, its quarantine.</summary>
public sealed class SqliteMailQueueStoreTests : MailQueueStoreContractTests, IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-sqlite-" + Guid.NewGuid().ToString("N"), "queue");
    private readonly ListLogger _log = new();

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);

    protected override ValueTask<IMailQueueStore> CreateStoreAsync()
        => new(new SqliteMailQueueStore(_directory, logger: new TypedListLogger<SqliteMailQueueStore>(_log)));

    private string DatabasePath => Path.Combine(_directory, SqliteMailQueueStore.DatabaseFileName);

    [Fact]
    public void The_directory_is_created_for_its_owner_only_and_the_database_runs_in_wal_mode()
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        }

        Assert.Equal("wal", Sql("PRAGMA journal_mode"));
        Assert.Equal(5L, Sql("PRAGMA user_version"));
    }

    [Fact]
    public async Task What_was_enqueued_is_there_after_reopening()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("kept"), default);
        await Store.DisposeAsync();

        await using var reopened = new SqliteMailQueueStore(_directory);

        Assert.Equal(entry.MessageId, Assert.Single(await reopened.ClaimDueAsync(T0, 10, Lease, default)).MessageId);
    }

    [Fact]
    public async Task A_database_of_a_newer_schema_is_refused_with_a_clear_error()
    {
        await Store.DisposeAsync();
        Sql("PRAGMA user_version = 7");

        var error = Assert.Throws<InvalidOperationException>(() => new SqliteMailQueueStore(_directory));

        Assert.Contains("schema version 7", error.Message, StringComparison.Ordinal);
        Assert.Contains(DatabasePath, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_content_is_dropped_once_every_recipient_is_final_and_the_history_stays()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));

        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default);

        Assert.Equal(0L, Sql($"SELECT count(*) FROM content WHERE message_id = '{entry.MessageId}'"));
        await Assert.ThrowsAsync<System.Collections.Generic.KeyNotFoundException>(async () => await Store.OpenContentAsync(entry.MessageId, default));
        Assert.Equal("250 ok", Assert.Single((await Store.GetAsync(entry.MessageId, default))!.Recipients[0].Attempts).Reply);
    }

    [Fact]
    public async Task A_completed_claim_cannot_write_again()
    {
        await Store.EnqueueAsync(Entry(T0, "a@example.test", "b@example.test"), Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, null)], default);

        await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.MarkInFlightAsync(claim, [1], default));
    }

    [Fact]
    public async Task A_failing_write_does_not_fail_the_others_committed_with_it()
    {
        var duplicate = Entry(T0, "dup@example.test");
        await Store.EnqueueAsync(duplicate, Bytes("first"), default);
        var others = Enumerable.Range(0, 50).Select(i => Entry(T0, $"r{i}@example.test")).ToList();

        var writes = others.Select(e => Task.Run(async () => await Store.EnqueueAsync(e, Bytes("x"), default))).ToList();
        var again = Task.Run(async () => await Store.EnqueueAsync(duplicate, Bytes("second"), default));
        await Task.WhenAll(writes);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await again);
        Assert.Contains(duplicate.MessageId, error.Message, StringComparison.Ordinal);
        Assert.Equal(51, (await List(null, 100, pendingOnly: true)).Count);
        await using var content = await Store.OpenContentAsync(duplicate.MessageId, default);
        Assert.Equal("first", await new StreamReader(content).ReadToEndAsync());
    }

    [Fact]
    public async Task A_recipient_row_with_an_unknown_state_is_quarantined_and_the_others_are_claimed()
    {
        var bad = Entry(T0, "bad@example.test", "other@example.test");
        var good = Entry(T0.AddSeconds(1), "good@example.test");
        await Store.EnqueueAsync(bad, Bytes("x"), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql($"UPDATE recipients SET state = 42 WHERE message_id = '{bad.MessageId}' AND idx = 0");

        var claims = await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default);

        Assert.Equal(good.MessageId, Assert.Single(claims).MessageId);
        AssertQuarantined(await Store.GetAsync(bad.MessageId, default), "state value 42");
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Id.Id == 7100 && e.Message.Contains(bad.MessageId, StringComparison.Ordinal) && e.Message.Contains("state value 42", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_message_whose_content_is_missing_is_quarantined()
    {
        var bad = Entry(T0, "a@example.test");
        var good = Entry(T0.AddSeconds(1), "b@example.test");
        await Store.EnqueueAsync(bad, Bytes("x"), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql($"DELETE FROM content WHERE message_id = '{bad.MessageId}'");

        Assert.Equal(good.MessageId, Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default)).MessageId);
        AssertQuarantined(await Store.GetAsync(bad.MessageId, default), "content is missing");
    }

    [Fact]
    public async Task A_message_whose_content_is_truncated_is_quarantined()
    {
        var bad = Entry(T0, "a@example.test");
        var good = Entry(T0.AddSeconds(1), "b@example.test");
        await Store.EnqueueAsync(bad, new MemoryStream(new byte[600 * 1024]), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql($"UPDATE content SET data = substr(data, 1, 1000) WHERE message_id = '{bad.MessageId}' AND part = 1");

        Assert.Equal(good.MessageId, Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default)).MessageId);
        AssertQuarantined(await Store.GetAsync(bad.MessageId, default), "truncated");
    }

    [Fact]
    public async Task Recipients_whose_message_row_is_gone_are_quarantined()
    {
        var bad = Entry(T0, "a@example.test");
        var good = Entry(T0.AddSeconds(1), "b@example.test");
        await Store.EnqueueAsync(bad, Bytes("x"), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql($"DELETE FROM messages WHERE id = '{bad.MessageId}'");

        Assert.Equal(good.MessageId, Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default)).MessageId);

        Assert.Equal((long)QueueRecipientState.Held, Sql($"SELECT state FROM recipients WHERE message_id = '{bad.MessageId}'"));
        Assert.Contains("no message row", (string)Sql($"SELECT detail FROM attempts WHERE message_id = '{bad.MessageId}'")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_row_with_a_value_of_the_wrong_type_is_quarantined()
    {
        var bad = Entry(T0, "a@example.test");
        var good = Entry(T0.AddSeconds(1), "b@example.test");
        await Store.EnqueueAsync(bad, Bytes("x"), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql($"UPDATE messages SET enqueued_at = 'yesterday' WHERE id = '{bad.MessageId}'");
        Sql($"UPDATE messages SET body_type = 9 WHERE id = '{good.MessageId}'");

        Assert.Empty(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default));

        Assert.Equal(2L, Sql($"SELECT count(*) FROM recipients WHERE state = {(int)QueueRecipientState.Held}"));
        Assert.Contains("messages.enqueued_at holds String where Int64 belongs", (string)Sql($"SELECT detail FROM attempts WHERE message_id = '{bad.MessageId}'")!, StringComparison.Ordinal);
        Assert.Contains("body type value 9", (string)Sql($"SELECT detail FROM attempts WHERE message_id = '{good.MessageId}'")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_quarantined_message_can_be_released_once_repaired()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        Sql($"UPDATE recipients SET state = 42 WHERE message_id = '{entry.MessageId}'");
        Assert.Empty(await Store.ClaimDueAsync(T0, 10, Lease, default));

        Assert.Equal(1, await Store.ApplyAsync(entry.MessageId, QueueOperation.Release, T0.AddHours(1), default));

        Assert.Equal(entry.MessageId, Assert.Single(await Store.ClaimDueAsync(T0.AddHours(1), 10, Lease, default)).MessageId);
    }

    [Fact]
    public async Task Statistics_leave_out_a_state_value_that_is_no_state()
    {
        var entry = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1));
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        Sql("UPDATE recipients SET state = 42");

        Assert.Empty((await Store.GetStatisticsAsync(default)).RecipientsByState);
    }

    [Fact]
    public async Task A_version_1_database_gets_its_counts_from_its_rows_when_opened()
    {
        var two = new QueueEntry(NewId(), "s@example.test",
            [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0), new QueueEntryRecipient("b@example.test", QueueRecipientState.Deferred, T0.AddHours(1), Attempt(QueueRecipientState.Deferred, "451 4.7.1 Try again later"))],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(1));
        await Store.EnqueueAsync(two, Bytes("x"), default);
        await Store.EnqueueAsync(Entry(T0.AddMinutes(1), "c@example.test"), Bytes("y"), default);
        await Store.DisposeAsync();
        // What version 1 wrote: the same tables without version 3's DSN columns and without the counts.
        DropDsnColumns();
        Sql("DROP TABLE recipient_counts; DROP TABLE totals; PRAGMA user_version = 1");
        foreach (var trigger in new[] { "recipients_counted", "recipients_uncounted", "recipients_recounted", "messages_counted", "messages_uncounted", "messages_recounted", "attempts_counted", "attempts_uncounted" })
        {
            Sql("DROP TRIGGER " + trigger);
        }

        Assert.Equal(0L, Sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"));

        await using var reopened = new SqliteMailQueueStore(_directory);
        var statistics = await reopened.GetStatisticsAsync(default);

        Assert.Equal(5L, Sql("PRAGMA user_version"));
        Assert.Equal([(QueueRecipientState.Queued, 2L), (QueueRecipientState.Deferred, 1L)],
            statistics.RecipientsByState.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal((2L, 1L, (DateTimeOffset?)T0), (statistics.Messages, statistics.Attempts, statistics.OldestPendingEnqueuedAt));
    }

    [Fact]
    public async Task A_version_2_database_gets_the_DSN_columns_and_its_messages_read_as_without_parameters()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        await Store.DisposeAsync();
        DropDsnColumns();
        Sql("PRAGMA user_version = 2");

        await using var reopened = new SqliteMailQueueStore(_directory);
        var claim = Assert.Single(await reopened.ClaimDueAsync(T0, 10, Lease, default));

        Assert.Equal(5L, Sql("PRAGMA user_version"));
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.Null(claim.DsnReturn);
        Assert.Null(claim.DsnEnvelopeId);
        Assert.Equal(DsnNotify.Default, Assert.Single(claim.Recipients).Notify);
        Assert.Null(claim.Recipients[0].OriginalRecipient);
    }

    [Fact]
    public async Task A_stored_NOTIFY_value_that_is_not_one_quarantines_the_message()
    {
        // Stops: a corrupted row sending NOTIFY=NEVER,SUCCESS (refused by every server) or being read as something else.
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        Sql("UPDATE recipients SET dsn_notify = 3");

        Assert.Empty(await Store.ClaimDueAsync(T0, 10, Lease, default));
        AssertQuarantined(await Store.GetAsync(entry.MessageId, default), "DSN NOTIFY value 3");
    }

    [Fact]
    public async Task A_version_3_database_gets_REQUIRETLS_and_the_Message_ID_index_and_keeps_its_rows_as_without_them()
    {
        // Stops: an upgrade that loses queued mail, or reads an old row as REQUIRETLS (it would then fail 5.7.30).
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("kept"), default);
        await Store.DisposeAsync();
        DropVersion4();
        Sql("PRAGMA user_version = 3");

        await using var reopened = new SqliteMailQueueStore(_directory);
        var claim = Assert.Single(await reopened.ClaimDueAsync(T0, 10, Lease, default));

        Assert.Equal(5L, Sql("PRAGMA user_version"));
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.False(claim.RequireTls);
        Assert.Null((await reopened.GetAsync(entry.MessageId, default))!.InternetMessageId);
        await using (var content = await reopened.OpenContentAsync(entry.MessageId, default))
        {
            Assert.Equal("kept", await new StreamReader(content).ReadToEndAsync());
        }

        Assert.Equal(1L, Sql("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'messages_internet_message_id'"));
        var found = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("b@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            RequireTls = true,
            InternetMessageId = "after@upgrade.example",
        };
        await reopened.EnqueueAsync(found, Bytes("y"), default);
        Assert.Equal([found.MessageId], await reopened.FindByInternetMessageIdAsync("after@upgrade.example", 10, default));
        Assert.True((await reopened.GetAsync(found.MessageId, default))!.RequireTls);
    }

    [Fact]
    public async Task A_stored_REQUIRETLS_value_that_is_not_0_or_1_quarantines_the_message()
    {
        // Stops: a corrupted flag read as "no REQUIRETLS" and the message sent where the sender forbade it.
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        Sql("UPDATE messages SET require_tls = 'yes'");

        Assert.Empty(await Store.ClaimDueAsync(T0, 10, Lease, default));
        AssertQuarantined(await Store.GetAsync(entry.MessageId, default), "require_tls");
    }

    [Fact]
    public async Task A_version_4_database_gets_TLS_Required_and_keeps_its_rows_as_without_it()
    {
        // Stops: an upgrade that loses queued mail or its REQUIRETLS, or reads an old row as "TLS-Required: No" (it
        // would then go past the recipient's MTA-STS or DANE policy, which the sender never asked for).
        var entry = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            RequireTls = true,
        };
        await Store.EnqueueAsync(entry, Bytes("kept"), default);
        await Store.DisposeAsync();
        DropVersion5();
        Sql("PRAGMA user_version = 4");

        await using var reopened = new SqliteMailQueueStore(_directory);
        var claim = Assert.Single(await reopened.ClaimDueAsync(T0, 10, Lease, default));

        Assert.Equal(5L, Sql("PRAGMA user_version"));
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.True(claim.RequireTls);
        Assert.False(claim.IgnoreRecipientTlsPolicy);
        Assert.False((await reopened.GetAsync(entry.MessageId, default))!.IgnoreRecipientTlsPolicy);
        await using (var content = await reopened.OpenContentAsync(entry.MessageId, default))
        {
            Assert.Equal("kept", await new StreamReader(content).ReadToEndAsync());
        }

        var marked = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("b@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            IgnoreRecipientTlsPolicy = true,
        };
        await reopened.EnqueueAsync(marked, Bytes("y"), default);
        Assert.True((await reopened.GetAsync(marked.MessageId, default))!.IgnoreRecipientTlsPolicy);
        Assert.Equal(1L, Sql($"SELECT tls_required_no FROM messages WHERE id = '{marked.MessageId}'"));
    }

    [Fact]
    public async Task A_stored_TLS_Required_value_that_is_not_1_applies_the_recipient_policy()
    {
        // Stops: a corrupted flag read as "TLS-Required: No" and the message sent past MTA-STS or DANE.
        var entry = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            IgnoreRecipientTlsPolicy = true,
        };
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        Sql("UPDATE messages SET tls_required_no = 'yes'");

        Assert.False(Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default)).IgnoreRecipientTlsPolicy);
    }

    private void DropVersion5() => Sql("ALTER TABLE messages DROP COLUMN tls_required_no");

    private void DropVersion4()
    {
        DropVersion5();
        Sql("DROP INDEX messages_internet_message_id; ALTER TABLE messages DROP COLUMN internet_message_id; ALTER TABLE messages DROP COLUMN require_tls");
    }

    private void DropDsnColumns()
    {
        DropVersion4();
        DropDsnV3Columns();
    }

    private void DropDsnV3Columns() => Sql(
        "ALTER TABLE messages DROP COLUMN dsn_ret; ALTER TABLE messages DROP COLUMN dsn_envid; " +
        "ALTER TABLE recipients DROP COLUMN dsn_notify; ALTER TABLE recipients DROP COLUMN dsn_orcpt");

    /// <summary>Raw SQL on the store's file, as a corrupting disk or a careless operator would.</summary>
    private object? Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
