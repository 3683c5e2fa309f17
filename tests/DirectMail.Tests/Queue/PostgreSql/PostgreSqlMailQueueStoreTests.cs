using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DirectMail.Tests.Queue.PostgreSql;

/// <summary>
/// The store contract on a real PostgreSQL, and what only the shared store has: claimers on several instances, fencing
/// between them, the outbox, the shared limits, its schema and its quarantine. Each test has its own schema.
/// </summary>
[Collection(PostgreSqlCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostgreSqlMailQueueStoreTests : MailQueueStoreContractTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static int _nextSchema;
    private readonly string _connectionString;
    private readonly string _schema = "t" + Interlocked.Increment(ref _nextSchema);
    private readonly ListLogger _log = new();

    public PostgreSqlMailQueueStoreTests(PostgreSqlFixture fixture) => _connectionString = fixture.Database(typeof(PostgreSqlMailQueueStoreTests));

    protected override ValueTask<IMailQueueStore> CreateStoreAsync() => new(OpenStore());

    private PostgreSqlMailQueueStore OpenStore()
        => new(_connectionString, new PostgreSqlMailQueueStoreOptions { SchemaName = _schema }, new TypedListLogger<PostgreSqlMailQueueStore>(_log));

    [Fact]
    public async Task The_schema_is_created_on_first_use_with_its_version()
    {
        await Store.GetStatisticsAsync(default);

        Assert.Equal(4, Sql<int>($"SELECT version FROM {_schema}.schema_version"));
        Assert.Equal(6L, Sql<long>($"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{_schema}' AND table_name IN ('messages', 'recipients', 'attempts', 'content', 'rate_buckets', 'connection_slots')"));
    }

    [Fact]
    public async Task A_version_1_schema_gets_the_DSN_columns_and_its_messages_read_as_without_parameters()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        DropVersion3();
        Sql<int>($"ALTER TABLE {_schema}.messages DROP COLUMN dsn_ret, DROP COLUMN dsn_envid; SELECT 1");
        Sql<int>($"ALTER TABLE {_schema}.recipients DROP COLUMN dsn_notify, DROP COLUMN dsn_orcpt; SELECT 1");
        Sql<int>($"UPDATE {_schema}.schema_version SET version = 1 RETURNING version");

        await using var upgraded = OpenStore();
        var claim = Assert.Single(await upgraded.ClaimDueAsync(T0, 10, TimeSpan.FromMinutes(5), default));

        Assert.Equal(4, Sql<int>($"SELECT version FROM {_schema}.schema_version"));
        Assert.Equal(1L, Sql<long>($"SELECT count(*) FROM {_schema}.schema_version"));
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.Null(claim.DsnReturn);
        Assert.Null(claim.DsnEnvelopeId);
        Assert.Equal(DsnNotify.Default, Assert.Single(claim.Recipients).Notify);
    }

    [Fact]
    public async Task A_version_2_schema_gets_REQUIRETLS_and_the_Message_ID_index_and_keeps_its_rows_as_without_them()
    {
        // Stops: an upgrade that loses queued mail, or reads an old row as REQUIRETLS (it would then fail 5.7.30).
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("kept"), default);
        DropVersion3();
        Sql<int>($"UPDATE {_schema}.schema_version SET version = 2 RETURNING version");

        await using var upgraded = OpenStore();
        var claim = Assert.Single(await upgraded.ClaimDueAsync(T0, 10, TimeSpan.FromMinutes(5), default));

        Assert.Equal(4, Sql<int>($"SELECT version FROM {_schema}.schema_version"));
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.False(claim.RequireTls);
        Assert.Null((await upgraded.GetAsync(entry.MessageId, default))!.InternetMessageId);
        await using (var content = await upgraded.OpenContentAsync(entry.MessageId, default))
        {
            Assert.Equal("kept", await new StreamReader(content).ReadToEndAsync());
        }

        Assert.Equal(1L, Sql<long>($"SELECT count(*) FROM pg_indexes WHERE schemaname = '{_schema}' AND indexname = 'messages_internet_message_id'"));
        var found = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("b@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            RequireTls = true,
            InternetMessageId = "after@upgrade.example",
        };
        await upgraded.EnqueueAsync(found, Bytes("y"), default);
        Assert.Equal([found.MessageId], await upgraded.FindByInternetMessageIdAsync("after@upgrade.example", 10, default));
        Assert.True((await upgraded.GetAsync(found.MessageId, default))!.RequireTls);
    }

    [Fact]
    public async Task A_version_3_schema_gets_TLS_Required_and_keeps_its_rows_as_without_it()
    {
        // Stops: an upgrade that loses queued mail or its REQUIRETLS, or reads an old row as "TLS-Required: No" (it
        // would then go past the recipient's MTA-STS or DANE policy, which the sender never asked for).
        var entry = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            RequireTls = true,
        };
        await Store.EnqueueAsync(entry, Bytes("kept"), default);
        DropVersion4();
        Sql<int>($"UPDATE {_schema}.schema_version SET version = 3 RETURNING version");

        await using var upgraded = OpenStore();
        var claim = Assert.Single(await upgraded.ClaimDueAsync(T0, 10, TimeSpan.FromMinutes(5), default));

        Assert.Equal(4, Sql<int>($"SELECT version FROM {_schema}.schema_version"));
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.True(claim.RequireTls);
        Assert.False(claim.IgnoreRecipientTlsPolicy);
        Assert.False((await upgraded.GetAsync(entry.MessageId, default))!.IgnoreRecipientTlsPolicy);
        await using (var content = await upgraded.OpenContentAsync(entry.MessageId, default))
        {
            Assert.Equal("kept", await new StreamReader(content).ReadToEndAsync());
        }

        var marked = new QueueEntry(NewId(), "s@example.test", [new QueueEntryRecipient("b@example.test", QueueRecipientState.Queued, T0)], SmtpBodyType.SevenBit, false, T0, T0.AddDays(1))
        {
            IgnoreRecipientTlsPolicy = true,
        };
        await upgraded.EnqueueAsync(marked, Bytes("y"), default);
        Assert.True((await upgraded.GetAsync(marked.MessageId, default))!.IgnoreRecipientTlsPolicy);
        Assert.True(Sql<bool>($"SELECT tls_required_no FROM {_schema}.messages WHERE id = '{marked.MessageId}'"));
    }

    private void DropVersion4() =>
        Sql<int>($"ALTER TABLE {_schema}.messages DROP COLUMN tls_required_no; SELECT 1");

    private void DropVersion3()
    {
        DropVersion4();
        Sql<int>($"DROP INDEX {_schema}.messages_internet_message_id; ALTER TABLE {_schema}.messages DROP COLUMN require_tls, DROP COLUMN internet_message_id; SELECT 1");
    }

    [Fact]
    public async Task A_schema_of_a_newer_version_is_refused_with_a_clear_error()
    {
        await Store.GetStatisticsAsync(default);
        Sql<int>($"UPDATE {_schema}.schema_version SET version = 7 RETURNING version");

        await using var newer = OpenStore();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await newer.GetStatisticsAsync(default));

        Assert.Contains($"queue schema {_schema} has version 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_instances_claiming_at_once_never_get_the_same_message_and_together_get_all()
    {
        var ids = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var entry = Entry(T0, $"r{i}@example.test");
            ids.Add(entry.MessageId);
            await Store.EnqueueAsync(entry, Bytes("x"), default);
        }

        await using var first = OpenStore();
        await using var second = OpenStore();
        var firstClaims = 0;
        var allClaimedOnce = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<List<string>> Drain(IMailQueueStore store)
        {
            // Every drainer's first claim comes before any drainer's second, so that each takes part whatever the
            // scheduling: 300 due messages and six claims of at most 7, so no first claim can come back empty.
            var taken = new List<string>();
            taken.AddRange((await store.ClaimDueAsync(T0, 7, Lease, default)).Select(c => c.MessageId));
            if (Interlocked.Increment(ref firstClaims) == 6)
            {
                allClaimedOnce.SetResult();
            }

            await allClaimedOnce.Task.Bounded();
            while (true)
            {
                var claims = await store.ClaimDueAsync(T0, 7, Lease, default);
                if (claims.Count == 0)
                {
                    return taken;
                }

                taken.AddRange(claims.Select(c => c.MessageId));
            }
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => Drain(i % 2 == 0 ? first : second))));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));
        Assert.All(results, r => Assert.NotEmpty(r));
    }

    [Fact]
    public async Task A_stale_instance_cannot_overwrite_the_outcome_of_the_instance_that_took_its_message_over()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        await using var staleInstance = OpenStore();
        await using var newInstance = OpenStore();
        var stale = Assert.Single(await staleInstance.ClaimDueAsync(T0, 10, Lease, default));
        var taken = Assert.Single(await newInstance.ClaimDueAsync(T0 + Lease, 10, Lease, default));
        await newInstance.CompleteAsync(taken, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 2.0.0 new"))], default);

        var refused = await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await staleInstance.CompleteAsync(stale,
            [new QueueRecipientUpdate(0, QueueRecipientState.Deferred, T0.AddHours(1), Attempt(QueueRecipientState.Deferred, "450 4.0.0 stale"))], default));

        Assert.Equal((stale.Fence, (long?)taken.Fence + 1, false), (refused.Fence, refused.CurrentFence, refused.MessageDeleted));
        Assert.Equal((short)QueueRecipientState.Delivered, Sql<short>($"SELECT state FROM {_schema}.recipients WHERE message_id = '{entry.MessageId}'"));
        Assert.Equal("250 2.0.0 new", Sql<string>($"SELECT string_agg(reply, '|') FROM {_schema}.attempts WHERE message_id = '{entry.MessageId}'"));
        Assert.Equal(taken.Fence + 1, Sql<long>($"SELECT fence FROM {_schema}.messages WHERE id = '{entry.MessageId}'"));
    }

    [Fact]
    public async Task A_write_through_a_claim_of_a_deleted_message_says_the_message_was_deleted()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.ApplyAsync(entry.MessageId, QueueOperation.Delete, T0, default);

        var refused = await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.MarkInFlightAsync(claim, [0], default));

        Assert.True(refused.MessageDeleted);
        Assert.Contains("deleted", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_enqueued_in_a_transaction_that_rolls_back_is_not_queued_and_the_application_row_neither()
    {
        await using var queue = new MailQueue(Store, timeProvider: new FakeTimeProvider(T0));
        await Store.GetStatisticsAsync(default);
        Sql<int>($"CREATE TABLE {_schema}_orders (id integer PRIMARY KEY); SELECT 1");
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var order = new NpgsqlCommand($"INSERT INTO {_schema}_orders VALUES (1)", connection, transaction))
            {
                await order.ExecuteNonQueryAsync();
            }

            await queue.EnqueueAsync(new SmtpEnvelope("shop@example.test", "buyer@example.test"), SmtpContent.FromBytes("Subject: order 1\r\n\r\nThanks.\r\n"u8.ToArray()), transaction);
            await transaction.RollbackAsync();
        }

        Assert.Equal(0L, Sql<long>($"SELECT count(*) FROM {_schema}_orders"));
        Assert.Empty(await List(null, 10, pendingOnly: false));
        Assert.Equal(0L, Sql<long>($"SELECT count(*) FROM {_schema}.content"));
        Assert.Empty(await Store.ClaimDueAsync(T0.AddHours(1), 10, Lease, default));
    }

    [Fact]
    public async Task A_message_enqueued_in_a_transaction_commits_with_the_application_row_and_is_then_claimable()
    {
        await using var queue = new MailQueue(Store, timeProvider: new FakeTimeProvider(T0));
        await Store.GetStatisticsAsync(default);
        Sql<int>($"CREATE TABLE {_schema}_orders (id integer PRIMARY KEY); SELECT 1");
        var body = "Subject: order 2\r\n\r\nThanks.\r\n"u8.ToArray();
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();

        string id;
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var order = new NpgsqlCommand($"INSERT INTO {_schema}_orders VALUES (2)", connection, transaction))
            {
                await order.ExecuteNonQueryAsync();
            }

            id = await queue.EnqueueAsync(new SmtpEnvelope("shop@example.test", "buyer@example.test"), SmtpContent.FromBytes(body), transaction);

            // Not visible to anyone else before the commit: no claim can take it.
            Assert.Empty(await Store.ClaimDueAsync(T0, 10, Lease, default));
            Assert.Null(await Store.GetAsync(id, default));
            await transaction.CommitAsync();
        }

        Assert.Equal(1L, Sql<long>($"SELECT count(*) FROM {_schema}_orders WHERE id = 2"));
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        Assert.Equal((id, "shop@example.test", "buyer@example.test"), (claim.MessageId, claim.Sender, Assert.Single(claim.Recipients).Address));
        await using var content = await Store.OpenContentAsync(id, default);
        var stored = new MemoryStream();
        await content.CopyToAsync(stored);
        Assert.Equal(body, stored.ToArray());
    }

    [Fact]
    public async Task The_message_rate_is_one_bucket_shared_by_every_instance()
    {
        await using var other = OpenStore();
        var limits = (IQueueLimitStore)Store;
        var otherLimits = (IQueueLimitStore)other;

        // 10 messages per second, a burst of 2: two go at once, then each waits 0.1 s more than the one before it.
        var waits = new[]
        {
            await limits.TakeMessageTokenAsync("mx.example.test", 10, 2, T0, default),
            await otherLimits.TakeMessageTokenAsync("mx.example.test", 10, 2, T0, default),
            await limits.TakeMessageTokenAsync("mx.example.test", 10, 2, T0, default),
            await otherLimits.TakeMessageTokenAsync("mx.example.test", 10, 2, T0, default),
        };
        // A quarter of a second later 2.5 tokens came back: the balance is 0.5, then -0.5 after this take.
        var later = await otherLimits.TakeMessageTokenAsync("mx.example.test", 10, 2, T0.AddMilliseconds(250), default);
        // Another key has its own full bucket.
        var elsewhere = await limits.TakeMessageTokenAsync("mx.other.test", 10, 2, T0, default);

        Assert.Equal(new[] { TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200) }, waits);
        Assert.Equal(TimeSpan.FromMilliseconds(50), later);
        Assert.Equal(TimeSpan.Zero, elsewhere);
    }

    [Fact]
    public async Task A_bucket_refills_to_its_burst_and_no_further()
    {
        var limits = (IQueueLimitStore)Store;
        await limits.TakeMessageTokenAsync("k", 1, 3, T0, default);

        // An hour idle refills 3 tokens, not 3,600: three go at once, the fourth waits a second.
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            waits.Add(await limits.TakeMessageTokenAsync("k", 1, 3, T0.AddHours(1), default));
        }

        Assert.Equal(new[] { TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(1) }, waits);
    }

    [Fact]
    public async Task Connection_slots_are_shared_by_every_instance_and_an_expired_one_is_free_again()
    {
        await using var other = OpenStore();
        var limits = (IQueueLimitStore)Store;
        var otherLimits = (IQueueLimitStore)other;
        var until = T0.AddMinutes(1);

        Assert.True(await limits.TryAcquireConnectionSlotAsync("mx", 2, "a-1", T0, until, default));
        Assert.True(await otherLimits.TryAcquireConnectionSlotAsync("mx", 2, "b-1", T0, until, default));
        Assert.False(await limits.TryAcquireConnectionSlotAsync("mx", 2, "a-2", T0, until, default));
        Assert.True(await limits.TryAcquireConnectionSlotAsync("other-mx", 2, "a-3", T0, until, default));

        // b-1 gives its slot back; a-1's instance dies and its slot frees itself when the lease ends.
        await otherLimits.ReleaseConnectionSlotAsync("mx", "b-1", default);
        Assert.True(await limits.TryAcquireConnectionSlotAsync("mx", 2, "a-4", T0.AddSeconds(1), until, default));
        Assert.False(await otherLimits.TryAcquireConnectionSlotAsync("mx", 2, "b-2", until.AddSeconds(-1), until.AddMinutes(1), default));
        Assert.True(await otherLimits.TryAcquireConnectionSlotAsync("mx", 2, "b-3", until, until.AddMinutes(1), default));

        Assert.Equal("a-4,b-3", Sql<string>($"SELECT string_agg(holder, ',' ORDER BY holder) FROM {_schema}.connection_slots WHERE key = 'mx'"));
    }

    [Fact]
    public async Task Concurrent_slot_takers_on_two_instances_never_hold_more_than_the_limit()
    {
        await using var other = OpenStore();
        var stores = new[] { (IQueueLimitStore)Store, other };

        var taken = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
            await stores[i % 2].TryAcquireConnectionSlotAsync("mx", 5, "h" + i, T0, T0.AddMinutes(1), default))));

        Assert.Equal(5, taken.Count(t => t));
    }

    [Fact]
    public async Task A_recipient_row_with_an_unknown_state_is_quarantined_and_the_others_are_claimed()
    {
        var bad = Entry(T0, "bad@example.test", "other@example.test");
        var good = Entry(T0.AddSeconds(1), "good@example.test");
        await Store.EnqueueAsync(bad, Bytes("x"), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql<int>($"UPDATE {_schema}.recipients SET state = 42 WHERE message_id = '{bad.MessageId}' AND idx = 0 RETURNING idx");

        var claims = await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default);

        Assert.Equal(good.MessageId, Assert.Single(claims).MessageId);
        AssertQuarantined(await Store.GetAsync(bad.MessageId, default), "state value 42");
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Id.Id == 7200 && e.Message.Contains(bad.MessageId, StringComparison.Ordinal) && e.Message.Contains("state value 42", StringComparison.Ordinal));
        // Held, it stays out of claims (the good one is under its lease).
        Assert.Empty(await Store.ClaimDueAsync(T0.AddMinutes(2), 10, Lease, default));
    }

    [Fact]
    public async Task Messages_whose_content_is_missing_or_truncated_are_quarantined()
    {
        var missing = Entry(T0, "a@example.test");
        var truncated = Entry(T0, "b@example.test");
        var good = Entry(T0.AddSeconds(1), "c@example.test");
        await Store.EnqueueAsync(missing, Bytes("x"), default);
        await Store.EnqueueAsync(truncated, new MemoryStream(new byte[600 * 1024]), default);
        await Store.EnqueueAsync(good, Bytes("y"), default);
        Sql<int>($"DELETE FROM {_schema}.content WHERE message_id = '{missing.MessageId}' RETURNING part");
        Sql<int>($"UPDATE {_schema}.content SET data = substring(data from 1 for 1000) WHERE message_id = '{truncated.MessageId}' AND part = 1 RETURNING part");

        Assert.Equal(good.MessageId, Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default)).MessageId);

        AssertQuarantined(await Store.GetAsync(missing.MessageId, default), "content is missing");
        AssertQuarantined(await Store.GetAsync(truncated.MessageId, default), "truncated");
    }

    [Fact]
    public async Task A_quarantined_message_can_be_released_once_repaired()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        Sql<int>($"UPDATE {_schema}.messages SET body_type = 9 WHERE id = '{entry.MessageId}' RETURNING 1");
        Assert.Empty(await Store.ClaimDueAsync(T0, 10, Lease, default));
        AssertQuarantined(await Store.GetAsync(entry.MessageId, default), "body type value 9");
        Sql<int>($"UPDATE {_schema}.messages SET body_type = 0 WHERE id = '{entry.MessageId}' RETURNING 1");

        Assert.Equal(1, await Store.ApplyAsync(entry.MessageId, QueueOperation.Release, T0.AddHours(1), default));

        Assert.Equal(entry.MessageId, Assert.Single(await Store.ClaimDueAsync(T0.AddHours(1), 10, Lease, default)).MessageId);
    }

    [Fact]
    public async Task The_content_is_dropped_once_every_recipient_is_final_and_the_history_stays()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));

        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default);

        Assert.Equal(0L, Sql<long>($"SELECT count(*) FROM {_schema}.content WHERE message_id = '{entry.MessageId}'"));
        Assert.Equal("250 ok", Assert.Single((await Store.GetAsync(entry.MessageId, default))!.Recipients[0].Attempts).Reply);
    }

    [Fact]
    public async Task A_duplicate_queue_id_is_refused_and_the_first_message_stays()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("first"), default);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.EnqueueAsync(entry, Bytes("second"), default));

        Assert.Contains(entry.MessageId, error.Message, StringComparison.Ordinal);
        await using var content = await Store.OpenContentAsync(entry.MessageId, default);
        Assert.Equal("first", await new StreamReader(content).ReadToEndAsync());
    }

    /// <summary>Raw SQL on the store's database, as a corrupting disk or a careless operator would: the first column of the last row.</summary>
    private T Sql<T>(string sql)
    {
        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return (T)command.ExecuteScalar()!;
    }
}
