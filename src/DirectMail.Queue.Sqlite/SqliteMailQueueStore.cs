using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Queue.Sqlite;

/// <summary>
/// The embedded queue store: a SQLite database (<c>queue.db</c>) in a local directory, needing no server. Every
/// write goes through one writer that commits whatever is waiting in one transaction (group commit: many concurrent
/// <see cref="EnqueueAsync"/> calls share one fsync); the database runs in WAL mode and every write returns only after
/// the WAL holding its commit was fsynced, so a call that returned survives the process being killed and the machine
/// losing power. Reads (listings, content, statistics) run on their own connections beside the writer. The
/// per-destination limits of the worker (<see cref="IQueueLimitStore"/>) are shared by every process on the directory,
/// in a database of their own.
/// </summary>
/// <remarks>
/// Times are kept as UTC ticks and come back with a zero offset. When every recipient of a message is final, its
/// content is dropped (nothing will send it again); its rows and history stay until the message is deleted.
/// </remarks>
public sealed class SqliteMailQueueStore : IMailQueueStore, IQueueLimitStore, DirectMail.Security.MtaSts.IMtaStsPolicyStoreSource
{
    internal const string DatabaseFileName = "queue.db";

    private readonly SqliteConnection _writerConnection;
    private readonly SqliteWriter _writer;
    private readonly string _readConnectionString;
    private readonly SqliteLimitStore _limits;
    private readonly SqliteMtaStsPolicyStore _mtaStsPolicies;
    private int _disposed;

    /// <summary>Opens the store in <paramref name="directory"/>, creating the directory (mode 0700) and the database as needed.</summary>
    /// <param name="directory">The store's directory.</param>
    /// <param name="options">How to use the database; null for the defaults.</param>
    /// <param name="logger">Where quarantined entries and failed commits are logged; null for none.</param>
    /// <exception cref="InvalidOperationException">The database was written by a newer version of this package.</exception>
    public SqliteMailQueueStore(string directory, SqliteMailQueueStoreOptions? options = null, ILogger<SqliteMailQueueStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new SqliteMailQueueStoreOptions();
        options.Validate();
        CreatePrivateDirectory(directory);

        var path = Path.Combine(Path.GetFullPath(directory), DatabaseFileName);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
            Pooling = false,
        };
        _writerConnection = new SqliteConnection(builder.ConnectionString);
        builder.Pooling = true;
        _readConnectionString = builder.ConnectionString;
        try
        {
            _writerConnection.Open();
            SqliteSchema.Open(_writerConnection, path);
        }
        catch
        {
            _writerConnection.Dispose();
            throw;
        }

        _writer = new SqliteWriter(_writerConnection, path + "-wal", (ILogger?)logger ?? NullLogger.Instance, options.MaxBatchSize);
        _limits = new SqliteLimitStore(Path.GetDirectoryName(path)!, options.BusyTimeout);
        _mtaStsPolicies = new SqliteMtaStsPolicyStore(Path.GetDirectoryName(path)!, options.BusyTimeout);
    }

    /// <summary>Creates the store's directory as needed; mode 0700 (the queue holds every message's content: only its owner may read it).</summary>
    internal static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <inheritdoc />
    /// <summary>The mailer's MTA-STS policies, kept in <c>mta-sts.db</c> beside the queue (the worker hands it to its mailer).</summary>
    DirectMail.Security.MtaSts.IMtaStsPolicyStore DirectMail.Security.MtaSts.IMtaStsPolicyStoreSource.MtaStsPolicies => _mtaStsPolicies;

    ValueTask<TimeSpan> IQueueLimitStore.TakeMessageTokenAsync(string key, double messagesPerSecond, double burst, DateTimeOffset now, CancellationToken cancellationToken) => _limits.TakeMessageTokenAsync(key, messagesPerSecond, burst, now, cancellationToken);

    /// <inheritdoc />
    ValueTask<bool> IQueueLimitStore.TryAcquireConnectionSlotAsync(string key, int maxConnections, string holder, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) => _limits.TryAcquireConnectionSlotAsync(key, maxConnections, holder, now, leaseUntil, cancellationToken);

    /// <inheritdoc />
    ValueTask IQueueLimitStore.ReleaseConnectionSlotAsync(string key, string holder, CancellationToken cancellationToken) => _limits.ReleaseConnectionSlotAsync(key, holder, cancellationToken);

    /// <inheritdoc />
    public async ValueTask EnqueueAsync(QueueEntry entry, Stream content, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateEntry(entry);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var (buffer, length, more) = await EnqueueWrite.ReadFirstPartAsync(content, cancellationToken).ConfigureAwait(false);
        using var write = new EnqueueWrite(entry, buffer, length, more ? content : null, cancellationToken);
        await _writer.WriteAsync(write).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<QueueClaim>> ClaimDueAsync(DateTimeOffset now, int maxMessages, TimeSpan lease, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateClaim(maxMessages, lease);

        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return await _writer.WriteAsync(new ClaimWrite(now, maxMessages, lease, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<Stream> OpenContentAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        cancellationToken.ThrowIfCancellationRequested();
        var connection = OpenReadConnection();
        try
        {
            var parts = new List<long>();
            long length = 0;
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT rowid, length(data) FROM content WHERE message_id = $id ORDER BY part";
                command.Parameters.AddWithValue("$id", messageId);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    parts.Add(reader.GetInt64(0));
                    length += reader.GetInt64(1);
                }
            }

            if (parts.Count == 0)
            {
                throw new KeyNotFoundException(
                    $"The store holds no content for queued message {messageId}: there is no such message, or every recipient is final and the content was dropped.");
            }

            return new ValueTask<Stream>(new SqliteContentStream(connection, messageId, parts, length));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask MarkInFlightAsync(QueueClaim claim, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        for (var i = 0; i < recipientIndexes.Count; i++)
        {
            QueueStoreArguments.RequireClaimed(claim, recipientIndexes[i]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        await _writer.WriteAsync(new MarkInFlightWrite(claim, recipientIndexes, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask RenewLeaseAsync(QueueClaim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        await _writer.WriteAsync(new RenewLeaseWrite(claim, leaseUntil, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask CompleteAsync(QueueClaim claim, IReadOnlyList<QueueRecipientUpdate> updates, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateUpdates(claim, updates);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        await _writer.WriteAsync(new CompleteWrite(claim, updates, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<QueuedMessage?> GetAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenReadConnection();
        using var transaction = connection.BeginTransaction(deferred: true);
        return new ValueTask<QueuedMessage?>(SqliteMessageReader.Read(connection, transaction, messageId));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<QueuedMessage> ListAsync(string? afterMessageId, int limit, bool pendingOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();
        List<QueuedMessage> page;
        using (var connection = OpenReadConnection())
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            // One read transaction: the page is one snapshot, and no connection stays open while the caller iterates.
            page = SqliteMessageReader.ReadPage(connection, transaction, afterMessageId, limit, pendingOnly);
        }

        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var message in page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return message;
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, int limit, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateMessageIdLookup(internetMessageId, limit);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenReadConnection();
        return new ValueTask<IReadOnlyList<string>>(SqliteMessageReader.FindByInternetMessageId(connection, internetMessageId, limit));
    }

    /// <inheritdoc />
    public async ValueTask<int> ApplyAsync(string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        QueueStoreArguments.ValidateOperation(operation);

        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return await _writer.WriteAsync(new OperationWrite(messageId, operation, now, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenReadConnection();
        using var transaction = connection.BeginTransaction(deferred: true);
        return new ValueTask<QueueStatistics>(SqliteStatistics.Read(connection, transaction));
    }

    /// <summary>Commits what is waiting, then closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writer.DisposeAsync().ConfigureAwait(false);
        _writerConnection.Dispose();
        _limits.Dispose();
        _mtaStsPolicies.Dispose();
        using var pooled = new SqliteConnection(_readConnectionString);
        SqliteConnection.ClearPool(pooled);
    }

    private SqliteConnection OpenReadConnection()
    {
        ThrowIfDisposed();
        var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return connection;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
