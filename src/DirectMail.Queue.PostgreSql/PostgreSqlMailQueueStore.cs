using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue.PostgreSql.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql;

/// <summary>
/// The shared queue store: PostgreSQL through Npgsql, so that several application instances deliver from one queue.
/// Claims lock the messages next due with <c>FOR UPDATE SKIP LOCKED</c> and hold them by a lease; every write through
/// a claim checks its fencing token under the message's row lock, so a worker that lost its lease writes nothing.
/// <see cref="EnqueueAsync(QueueEntry, Stream, CancellationToken)"/> returns once its transaction has committed; the
/// outbox overload writes inside the application's own transaction instead. It also keeps the per-destination limits
/// every instance shares (<see cref="IQueueLimitStore"/>). The schema (<see cref="PostgreSqlMailQueueStoreOptions.SchemaName"/>)
/// and its tables are created on first use.
/// </summary>
/// <remarks>
/// Times are kept as <c>timestamptz</c>, to the microsecond, and come back with a zero offset. When every recipient of
/// a message is final its content is dropped; its rows and history stay until the message is deleted.
/// </remarks>
public sealed class PostgreSqlMailQueueStore : IMailQueueStore, IQueueLimitStore, DirectMail.Security.MtaSts.IMtaStsPolicyStoreSource
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly QueueSql _sql;
    private readonly PostgreSqlMtaStsPolicyStore _mtaStsPolicies;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;
    private int _disposed;

    /// <summary>Opens the store on a data source the caller owns (and disposes after the store).</summary>
    /// <param name="dataSource">Where the queue's schema is (or is created).</param>
    /// <param name="options">How to use the database; null for the defaults.</param>
    /// <param name="logger">Where quarantined entries are logged; null for none.</param>
    /// <exception cref="ArgumentException">The schema name is not a plain identifier.</exception>
    public PostgreSqlMailQueueStore(NpgsqlDataSource dataSource, PostgreSqlMailQueueStoreOptions? options = null, ILogger<PostgreSqlMailQueueStore>? logger = null)
        : this(dataSource, ownsDataSource: false, options, logger)
    {
    }

    /// <summary>Opens the store on its own data source made from <paramref name="connectionString"/> (disposed with the store).</summary>
    /// <param name="connectionString">An Npgsql connection string (<c>Host=...;Database=...;Username=...</c>).</param>
    /// <param name="options">How to use the database; null for the defaults.</param>
    /// <param name="logger">Where quarantined entries are logged; null for none.</param>
    /// <exception cref="ArgumentException">The connection string or the schema name is invalid.</exception>
    public PostgreSqlMailQueueStore(string connectionString, PostgreSqlMailQueueStoreOptions? options = null, ILogger<PostgreSqlMailQueueStore>? logger = null)
        : this(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, options, logger)
    {
    }

    private PostgreSqlMailQueueStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgreSqlMailQueueStoreOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgreSqlMailQueueStoreOptions();
        options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _sql = new QueueSql(options.SchemaName);
        _logger = logger ?? NullLogger.Instance;
        _mtaStsPolicies = new PostgreSqlMtaStsPolicyStore(dataSource, options.SchemaName);
    }

    /// <summary>The schema that holds the queue's tables.</summary>
    public string SchemaName => _sql.Schema;

    /// <summary>MTA-STS policies kept in the queue's database, for every instance's policy cache (table <c>mta_sts_policies</c>).</summary>
    DirectMail.Security.MtaSts.IMtaStsPolicyStore DirectMail.Security.MtaSts.IMtaStsPolicyStoreSource.MtaStsPolicies => _mtaStsPolicies;

    /// <inheritdoc />
    public async ValueTask EnqueueAsync(QueueEntry entry, Stream content, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateEntry(entry);
        ArgumentNullException.ThrowIfNull(content);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EntryWriter.WriteAsync(connection, transaction: null, _sql, entry, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Keeps a message inside the application's own open transaction (the outbox pattern): it is kept if and only if
    /// <paramref name="transaction"/> commits, and claimable from then on. Nothing is committed here. The queue's
    /// <c>EnqueueAsync(envelope, content, transaction)</c> (<see cref="PostgreSqlOutboxExtensions"/>) calls this.
    /// </summary>
    /// <param name="entry">The envelope and the recipients' first due times.</param>
    /// <param name="content">The message content (read to its end once, not disposed).</param>
    /// <param name="transaction">The application's open transaction, on a connection to the store's database.</param>
    /// <param name="cancellationToken">Cancels the write (the transaction is then the caller's to roll back).</param>
    /// <exception cref="InvalidOperationException">The transaction is finished, or the queue id is already in the store (the transaction is then aborted).</exception>
    public async ValueTask EnqueueAsync(QueueEntry entry, Stream content, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateEntry(entry);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already committed or rolled back: the message would not be kept with it.");
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await EntryWriter.WriteAsync(connection, transaction, _sql, entry, content, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<QueueClaim>> ClaimDueAsync(DateTimeOffset now, int maxMessages, TimeSpan lease, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateClaim(maxMessages, lease);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await new ClaimRun(_sql, now, maxMessages, lease).RunAsync(_dataSource, _logger, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<Stream> OpenContentAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var parts = new List<int>();
        long length = 0;
        await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var command = Sql.Command(connection, null, _sql.ContentParts))
        {
            command.Parameters.AddValue(messageId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var partLength = reader.GetInt32(1);
                parts.Add(partLength);
                length += partLength;
            }
        }

        if (parts.Count == 0)
        {
            throw new KeyNotFoundException(
                $"The store holds no content for queued message {messageId}: there is no such message, or every recipient is final and the content was dropped.");
        }

        return new PostgreSqlContentStream(_dataSource, _sql, messageId, parts.ToArray(), length);
    }

    /// <inheritdoc />
    public async ValueTask MarkInFlightAsync(QueueClaim claim, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        var indexes = new int[recipientIndexes.Count];
        for (var i = 0; i < indexes.Length; i++)
        {
            QueueStoreArguments.RequireClaimed(claim, recipientIndexes[i]);
            indexes[i] = recipientIndexes[i];
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, _sql.MarkInFlight);
        command.Parameters.AddValue(claim.MessageId);
        command.Parameters.AddValue(claim.Fence);
        command.Parameters.AddValue(indexes);
        long? fence = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                fence = reader.GetInt64(0);
            }
        }

        if (fence != claim.Fence)
        {
            throw new QueueLeaseLostException(claim.MessageId, claim.Fence, fence);
        }
    }

    /// <inheritdoc />
    public async ValueTask RenewLeaseAsync(QueueClaim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, _sql.RenewLease);
        command.Parameters.AddValue(claim.MessageId);
        command.Parameters.AddValue(claim.Fence);
        command.Parameters.AddTime(leaseUntil);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            // The update's own condition decided; this read only says why.
            await using var current = Sql.Command(connection, null, _sql.CurrentFence);
            current.Parameters.AddValue(claim.MessageId);
            throw new QueueLeaseLostException(claim.MessageId, claim.Fence, await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long?);
        }
    }

    /// <inheritdoc />
    public async ValueTask CompleteAsync(QueueClaim claim, IReadOnlyList<QueueRecipientUpdate> updates, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateUpdates(claim, updates);
        var indexes = new int[updates.Count];
        var states = new short[updates.Count];
        var next = new DateTimeOffset?[updates.Count];
        var added = new int[updates.Count];
        var attempts = new AttemptColumns(updates.Count);
        for (var i = 0; i < updates.Count; i++)
        {
            var update = updates[i];
            indexes[i] = update.Index;
            states[i] = (short)update.State;
            next[i] = update.State == QueueRecipientState.Deferred ? update.NextAttemptAt!.Value.ToUniversalTime() : null;
            if (update.Attempt is { } attempt)
            {
                added[i] = 1;
                attempts.Add(update.Index, attempt);
            }
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var check = Sql.Command(connection, transaction, _sql.LockFence))
        {
            check.Parameters.AddValue(claim.MessageId);
            var fence = await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long?;
            if (fence != claim.Fence)
            {
                throw new QueueLeaseLostException(claim.MessageId, claim.Fence, fence);
            }
        }

        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (updates.Count > 0)
            {
                var rows = Sql.BatchCommand(batch, _sql.CompleteRecipients).Parameters;
                rows.AddValue(claim.MessageId);
                rows.AddValue(indexes);
                rows.AddValue(states);
                rows.Add(new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = next, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
                rows.AddValue(added);
            }

            if (attempts.Count > 0)
            {
                attempts.AddTo(Sql.BatchCommand(batch, _sql.InsertAttempts).Parameters, claim.MessageId);
            }

            Sql.BatchCommand(batch, _sql.CompleteInFlightToInDoubt).Parameters.AddValue(claim.MessageId);
            Sql.BatchCommand(batch, _sql.CompleteMessage).Parameters.AddValue(claim.MessageId);
            Sql.BatchCommand(batch, _sql.CompleteDropContent).Parameters.AddValue(claim.MessageId);
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<QueuedMessage?> GetAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var found = await MessageReader.ReadAsync(_dataSource, _sql, messageId, null, 1, false, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, int limit, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateMessageIdLookup(internetMessageId, limit);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, _sql.FindByInternetMessageId);
        command.Parameters.AddValue(internetMessageId);
        command.Parameters.AddValue(limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<QueuedMessage> ListAsync(string? afterMessageId, int limit, bool pendingOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        // The page is read whole, in one snapshot: no connection stays open while the caller iterates.
        var page = await MessageReader.ReadAsync(_dataSource, _sql, null, afterMessageId, limit, pendingOnly, cancellationToken).ConfigureAwait(false);
        foreach (var message in page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return message;
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> ApplyAsync(string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateOperation(operation);

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await OperationRun.RunAsync(_dataSource, _sql, messageId, operation, now, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var text in _sql.Statistics)
        {
            Sql.BatchCommand(batch, text);
        }

        var byState = new Dictionary<QueueRecipientState, long>();
        long messages, attempts;
        DateTimeOffset? oldest, nextDue;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var state = reader.GetInt16(0);
                // A value that is no state is a corrupt row the next claim quarantines; it is not a state to count.
                if (state is >= 0 and <= (short)QueueRecipientState.InDoubt)
                {
                    byState[(QueueRecipientState)state] = reader.GetInt64(1);
                }
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            messages = reader.GetInt64(0);
            oldest = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            nextDue = reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            attempts = reader.GetInt64(0);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new QueueStatistics(byState, messages, oldest, nextDue, attempts);
    }

    /// <inheritdoc />
    public async ValueTask<TimeSpan> TakeMessageTokenAsync(string key, double messagesPerSecond, double burst, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!(messagesPerSecond > 0) || double.IsInfinity(messagesPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(messagesPerSecond), messagesPerSecond, "The refill rate is a positive number of messages per second.");
        }

        if (!(burst >= 1) || double.IsInfinity(burst))
        {
            throw new ArgumentOutOfRangeException(nameof(burst), burst, "A bucket holds at least one token.");
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, _sql.TakeToken);
        command.Parameters.AddValue(key);
        command.Parameters.AddValue(messagesPerSecond);
        command.Parameters.AddValue(burst);
        command.Parameters.AddTime(now);
        var tokens = (double)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        // A negative balance is the waiters ahead (this one included): each waits for its token to be refilled.
        return tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Round(-tokens / messagesPerSecond * TimeSpan.TicksPerSecond));
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryAcquireConnectionSlotAsync(string key, int maxConnections, string holder, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(holder);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        var ensure = Sql.BatchCommand(batch, _sql.EnsureSlots).Parameters;
        ensure.AddValue(key);
        ensure.AddValue(maxConnections);
        var take = Sql.BatchCommand(batch, _sql.TakeSlot);
        take.Parameters.AddValue(key);
        take.Parameters.AddValue(maxConnections);
        take.Parameters.AddValue(holder);
        take.Parameters.AddTime(now);
        take.Parameters.AddTime(leaseUntil);
        // The insert returns no rows, so the first result is the take's: the slot renewed or taken, or none.
        return await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <inheritdoc />
    public async ValueTask ReleaseConnectionSlotAsync(string key, string holder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(holder);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, _sql.ReleaseSlot);
        command.Parameters.AddValue(key);
        command.Parameters.AddValue(holder);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the data source when the store made it; one given to the store is the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _schemaGate.Dispose();
        _mtaStsPolicies.Dispose();
    }

    /// <summary>Creates or checks the schema once; a failure (the database unreachable) is tried again by the next call.</summary>
    private async ValueTask EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_schemaReady)
        {
            return;
        }

        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_schemaReady)
            {
                await SchemaMigration.EnsureAsync(_dataSource, _sql, _logger, cancellationToken).ConfigureAwait(false);
                _schemaReady = true;
            }
        }
        finally
        {
            _schemaGate.Release();
        }
    }
}
