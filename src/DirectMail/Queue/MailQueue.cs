using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.IO;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Queue;

/// <summary>
/// The default <see cref="IMailQueue"/>: the retry schedule and the operations over an <see cref="IMailQueueStore"/>.
/// A <see cref="MailQueueWorker"/> delivers what it holds. As <see cref="DirectMailer.OnDeferred"/> it keeps what a send
/// deferred. Thread-safe. Disposing it ends the event readers; the store belongs to the caller.
/// </summary>
public sealed class MailQueue : IMailQueue, IDeferredRecipientHandOff, IAsyncDisposable
{
    private readonly IMailQueueStore _store;
    private readonly QueueIdGenerator _ids = new();
    private readonly List<Channel<MailQueueEvent>> _readers = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private QueueStatistics? _statistics;
    private int _disposed;

    /// <summary>Creates a queue over a store.</summary>
    /// <param name="store">Where messages are kept (not disposed by the queue).</param>
    /// <param name="options">The settings, checked now; null for the defaults. Do not change them afterwards.</param>
    /// <param name="loggerFactory">For the logs; null for none.</param>
    /// <param name="timeProvider">The clock of due times and leases; null for the system's.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public MailQueue(IMailQueueStore store, MailQueueOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(store, options, loggerFactory, timeProvider, random: null)
    {
    }

    internal MailQueue(IMailQueueStore store, MailQueueOptions? options, ILoggerFactory? loggerFactory, TimeProvider? timeProvider, Random? random)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new MailQueueOptions();
        options.Validate();
        _store = store;
        Options = options;
        Time = timeProvider ?? TimeProvider.System;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DirectMail.Queue");
        Schedule = new RetrySchedule(options, random);
        QueueMetrics.Register(this);
    }

    /// <summary>
    /// The suppression list <see cref="EnqueueAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/> consults: a recipient on
    /// it is kept <see cref="QueueRecipientState.Failed"/> from the start (its attempt says why, with the status it bounced
    /// with or 5.7.1), so no connection is ever made for it; the event is published and, with
    /// <see cref="MailQueueOptions.SendDeliveryStatusNotices"/> and NOTIFY asking for failures, a notice is queued to the
    /// sender. A message whose recipients are all suppressed is still kept, settled, so its queue id tells the outcome. A
    /// list that cannot be read leaves the recipient Queued (the worker's mailer checks again before it sends). Through
    /// <see cref="EnqueueThroughAsync"/> (an outbox) the recipients are kept Failed the same way, but no event or notice
    /// comes before the caller commits. Null (default): no list; <c>AddQueue</c> sets the one <c>AddSuppressionList</c>
    /// registers. Set it before the first enqueue.
    /// </summary>
    public Suppression.ISuppressionStore? SuppressionStore { get; set; }

    /// <summary>How much of a message's start is read for its <c>Message-ID</c> at enqueue (octets): only the header, at most this.</summary>
    public const int MaxHeaderScan = 64 * 1024;

    internal MailQueueOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal RetrySchedule Schedule { get; }

    internal IMailQueueStore Store => _store;

    /// <summary>The last statistics read (by the worker or a caller), for the metrics; null before the first.</summary>
    internal QueueStatistics? CachedStatistics => Volatile.Read(ref _statistics);

    /// <summary>Completes when this process adds due work (enqueue, flush, release), then is replaced.</summary>
    internal Task WakeTask => Volatile.Read(ref _wake).Task;

    /// <inheritdoc />
    public async ValueTask<string> EnqueueAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default)
    {
        var id = await EnqueueCoreAsync(envelope, content, write: null, cancellationToken).ConfigureAwait(false);
        Wake();
        return id;
    }

    /// <summary>
    /// Keeps a message as <see cref="EnqueueAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/> does (the same
    /// entry, due now, and the same stored content), but hands them to <paramref name="write"/> instead of the store's
    /// <see cref="IMailQueueStore.EnqueueAsync"/>. It is the seam of a store package's outbox: the PostgreSQL store's
    /// <c>EnqueueAsync(envelope, content, transaction)</c> writes the entry inside the application's own open
    /// transaction, so the message is kept if and only if that transaction commits. This queue's worker is not woken:
    /// nothing is visible before the caller commits; a worker finds the message at its next poll.
    /// </summary>
    /// <param name="envelope">The sender and the recipients.</param>
    /// <param name="content">The message; written once, into the stored form.</param>
    /// <param name="write">Keeps the entry: called once with this queue's store, the entry and its content (read it to its end once; not disposed).</param>
    /// <param name="cancellationToken">Cancels the enqueue.</param>
    /// <returns>The queue id the entry was given.</returns>
    /// <exception cref="SmtpContentException">The content holds what SMTP cannot carry (a NUL octet): <paramref name="write"/> was not called.</exception>
    public ValueTask<string> EnqueueThroughAsync(SmtpEnvelope envelope, SmtpContent content, Func<IMailQueueStore, QueueEntry, Stream, CancellationToken, ValueTask> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        return EnqueueCoreAsync(envelope, content, write, cancellationToken);
    }

    /// <summary>
    /// Keeps the recipients a send deferred, each as Deferred with that attempt recorded and its first retry scheduled
    /// as if the queue had made the attempt (so a greylisted recipient comes back after 5.5 minutes, or when the server said).
    /// </summary>
    async ValueTask<string> IDeferredRecipientHandOff.HandOffAsync(SmtpEnvelope envelope, SmtpContent content, DeliveryReport report, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var now = Time.GetUtcNow();
        var expiresAt = now + Options.MaxAge;
        var recipients = new QueueEntryRecipient[recipientIndexes.Count];
        for (var i = 0; i < recipients.Length; i++)
        {
            var delivery = report.Recipients[recipientIndexes[i]];
            var attempt = MailQueueWorker.ToAttempt(delivery, now - delivery.Duration, QueueRecipientState.Deferred);
            var index = recipientIndexes[i];
            recipients[i] = new QueueEntryRecipient(delivery.Address, QueueRecipientState.Deferred, Schedule.NextAttempt(now, 1, delivery.Reply, expiresAt), attempt)
            {
                Notify = envelope.GetRecipientNotify(index),
                OriginalRecipient = envelope.GetOriginalRecipient(index),
            };
        }

        var id = await StoreAsync(envelope, content, recipients, AnyRecipientNeedsUtf8(envelope, recipientIndexes), now, write: null, failed: null, cancellationToken).ConfigureAwait(false);
        QueueLog.HandedOff(Logger, id, recipients.Length);
        Wake();
        return id;
    }

    /// <inheritdoc />
    public ValueTask<QueuedMessage?> GetAsync(string queueId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueId);
        return _store.GetAsync(queueId, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(internetMessageId);
        return internetMessageId.Length > QueueEntry.MaxInternetMessageIdLength
            ? ValueTask.FromResult<IReadOnlyList<string>>([])
            : _store.FindByInternetMessageIdAsync(internetMessageId, 10, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<QueuedMessage> ListAsync(bool pendingOnly = true, string? afterQueueId = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return _store.ListAsync(afterQueueId, limit, pendingOnly, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> HoldAsync(string? queueId, CancellationToken cancellationToken = default) => ApplyAsync(queueId, QueueOperation.Hold, cancellationToken);

    /// <inheritdoc />
    public ValueTask<int> ReleaseAsync(string? queueId, CancellationToken cancellationToken = default) => ApplyAsync(queueId, QueueOperation.Release, cancellationToken);

    /// <inheritdoc />
    public ValueTask<int> DeleteAsync(string queueId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueId);
        return ApplyAsync(queueId, QueueOperation.Delete, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> BounceAsync(string queueId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueId);
        return ApplyAsync(queueId, QueueOperation.Bounce, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> FlushAsync(string? queueId = null, CancellationToken cancellationToken = default) => ApplyAsync(queueId, QueueOperation.Flush, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var statistics = await _store.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _statistics, statistics);
        return statistics;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<MailQueueEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<MailQueueEvent>(new BoundedChannelOptions(Options.EventCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_readers)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                yield break;
            }

            _readers.Add(channel);
        }

        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            lock (_readers)
            {
                _readers.Remove(channel);
            }
        }
    }

    /// <summary>Ends the event readers and the metrics of this queue. The store is not disposed.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            QueueMetrics.Unregister(this);
            lock (_readers)
            {
                foreach (var reader in _readers)
                {
                    reader.Writer.TryComplete();
                }

                _readers.Clear();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Tells the event readers.</summary>
    internal void Publish(MailQueueEvent item)
    {
        lock (_readers)
        {
            foreach (var reader in _readers)
            {
                reader.Writer.TryWrite(item);
            }
        }
    }

    /// <summary>Wakes this process's worker: due work was added.</summary>
    internal void Wake()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _wake, next).TrySetResult();
    }

    private async ValueTask<int> ApplyAsync(string? queueId, QueueOperation operation, CancellationToken cancellationToken)
    {
        var changed = await _store.ApplyAsync(queueId, operation, Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        QueueLog.OperationApplied(Logger, operation, queueId ?? "(all)", changed);
        if (operation is QueueOperation.Release or QueueOperation.Flush && changed > 0)
        {
            Wake();
        }

        return changed;
    }

    /// <summary>Every recipient of the envelope Queued, due now; kept by the store, or by <paramref name="write"/>.</summary>
    private async ValueTask<string> EnqueueCoreAsync(SmtpEnvelope envelope, SmtpContent content, Func<IMailQueueStore, QueueEntry, Stream, CancellationToken, ValueTask>? write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var now = Time.GetUtcNow();
        var recipients = new QueueEntryRecipient[envelope.Recipients.Count];
        List<(int Index, SmtpReply Reply)>? suppressed = null;
        for (var i = 0; i < recipients.Length; i++)
        {
            var address = envelope.Recipients[i];
            var refusal = await SuppressedAsync(address, cancellationToken).ConfigureAwait(false);
            recipients[i] = new QueueEntryRecipient(address, refusal is null ? QueueRecipientState.Queued : QueueRecipientState.Failed, now,
                refusal is null ? null : new QueueAttempt(now, QueueRecipientState.Failed, null, null, null, refusal.ToString()))
            {
                Notify = envelope.GetRecipientNotify(i),
                OriginalRecipient = envelope.GetOriginalRecipient(i),
            };
            if (refusal is not null)
            {
                (suppressed ??= []).Add((i, refusal));
            }
        }

        // Told only when the message is kept by this queue's own write: an outbox's is not visible before its commit.
        var tell = suppressed is not null && write is null ? suppressed : null;
        var id = await StoreAsync(envelope, content, recipients, AnyRecipientNeedsUtf8(envelope, null), now, write, tell, cancellationToken).ConfigureAwait(false);
        QueueLog.Enqueued(Logger, id, recipients.Length);
        return id;
    }

    /// <summary>The reply a suppressed recipient is failed with, or null when it is not on the list (or there is none, or it cannot be read).</summary>
    private async ValueTask<SmtpReply?> SuppressedAsync(string address, CancellationToken cancellationToken)
    {
        if (SuppressionStore is not { } list)
        {
            return null;
        }

        Suppression.SuppressedRecipient? entry;
        try
        {
            entry = await list.FindAsync(address, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Kept Queued: the worker's mailer consults the list again before anything is sent.
            SuppressionLog.CheckFailed(Logger, address, e);
            return null;
        }

        if (entry is null)
        {
            return null;
        }

        SuppressionLog.Suppressed(Logger, address, entry.SuppressedAt, entry.Source, entry.Classification);
        return Suppression.SuppressionCheck.Reply(address, entry);
    }

    /// <summary>
    /// The recipients failed at enqueue (suppressed), once the message is kept: logged, published as events, and
    /// reported to the sender in one notice when the queue sends notices and NOTIFY asks for failures.
    /// </summary>
    private async ValueTask TellFailedAtEnqueueAsync(QueueEntry entry, ContentSpool spool, List<(int Index, SmtpReply Reply)> failed, CancellationToken cancellationToken)
    {
        var events = new List<MailQueueEvent>(failed.Count);
        var claimed = new List<QueueClaimedRecipient>(failed.Count);
        foreach (var (index, reply) in failed)
        {
            var recipient = entry.Recipients[index];
            claimed.Add(new QueueClaimedRecipient(index, recipient.Address, 1) { Notify = recipient.Notify, OriginalRecipient = recipient.OriginalRecipient });
            events.Add(new MailQueueEvent(entry.MessageId, index, recipient.Address, QueueRecipientState.Failed, null, recipient.FirstAttempt, recipient.FirstAttempt?.Detail) { LocalReply = reply });
            QueueLog.Failed(Logger, entry.MessageId, recipient.Address, recipient.FirstAttempt?.Detail);
        }

        if (Options.SendDeliveryStatusNotices)
        {
            var claim = new QueueClaim(entry.MessageId, 0, entry.EnqueuedAt, entry.Sender, entry.BodyType, entry.RequiresSmtpUtf8, entry.EnqueuedAt, entry.ExpiresAt, claimed)
            {
                DsnReturn = entry.DsnReturn,
                DsnEnvelopeId = entry.DsnEnvelopeId,
                RequireTls = entry.RequireTls,
                IgnoreRecipientTlsPolicy = entry.IgnoreRecipientTlsPolicy,
            };
            try
            {
                if (QueueNotices.Build(claim, events, Options.ReportingMta!, Time.GetUtcNow()) is { } notice)
                {
                    await using var original = spool.OpenRead();
                    var noticeId = await QueueNotices.EnqueueAsync(this, original, claim, notice, cancellationToken).ConfigureAwait(false);
                    QueueLog.NoticeQueued(Logger, entry.MessageId, noticeId, notice.Recipients.Count);
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException)
            {
                // The outcome is kept whatever happens here: a notice that cannot be made loses no mail.
                QueueLog.NoticeFailed(Logger, entry.MessageId, e);
            }
        }

        foreach (var item in events)
        {
            Publish(item);
        }
    }

    /// <summary>
    /// Writes the content once, as a server would receive it (<see cref="StoredContentWriter"/>), into a spool (memory,
    /// or an owner-only temporary file above 1 MiB), refusing a NUL before the store sees anything; then stores it.
    /// The form written is the one for a server without extensions (MIME content then uses 7-bit transfer encodings),
    /// so every server can take the stored octets.
    /// </summary>
    private async ValueTask<string> StoreAsync(SmtpEnvelope envelope, SmtpContent content, QueueEntryRecipient[] recipients, bool recipientsNeedUtf8, DateTimeOffset now, Func<IMailQueueStore, QueueEntry, Stream, CancellationToken, ValueTask>? write, List<(int Index, SmtpReply Reply)>? failed, CancellationToken cancellationToken)
    {
        await using var spool = new ContentSpool(prefix: "directmail-queue-");
        var writer = new StoredContentWriter(spool);
        await content.WriteToAsync(writer, SmtpCapabilities.Minimal, cancellationToken).ConfigureAwait(false);
        writer.Complete();
        await spool.CompleteAsync(cancellationToken).ConfigureAwait(false);

        var bodyType = writer.HasEightBit || content.GetBodyType(SmtpCapabilities.Minimal) == SmtpBodyType.EightBit ? SmtpBodyType.EightBit : SmtpBodyType.SevenBit;
        var requiresSmtpUtf8 = content.RequiresSmtpUtf8 || envelope.SenderNeedsSmtpUtf8 || recipientsNeedUtf8;
        var id = _ids.Next(now);
        var entry = new QueueEntry(id, envelope.Sender, recipients, bodyType, requiresSmtpUtf8, now, now + Options.MaxAge)
        {
            DsnReturn = envelope.DsnReturn,
            DsnEnvelopeId = envelope.DsnEnvelopeId,
            RequireTls = envelope.RequireTls,

            // What the content says (EmailMessage.IgnoreRecipientTlsPolicy, a scanned raw message), or the stored header
            // (a forward-only stream is scanned only here): the retries then ignore MTA-STS and DANE as a send would.
            IgnoreRecipientTlsPolicy = content.TlsRequiredNo || writer.TlsRequiredNo,
            InternetMessageId = await ReadMessageIdAsync(spool, cancellationToken).ConfigureAwait(false),
        };
        await using (var stream = spool.OpenRead())
        {
            if (write is null)
            {
                await _store.EnqueueAsync(entry, stream, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await write(_store, entry, stream, cancellationToken).ConfigureAwait(false);
            }
        }

        if (failed is not null)
        {
            await TellFailedAtEnqueueAsync(entry, spool, failed, cancellationToken).ConfigureAwait(false);
        }

        return id;
    }

    /// <summary>
    /// The stored content's <c>Message-ID</c> without angle brackets, from at most <see cref="MaxHeaderScan"/> octets of
    /// its header (a field cut off at that bound is not read); null when there is none or it is longer than
    /// <see cref="QueueEntry.MaxInternetMessageIdLength"/>.
    /// </summary>
    internal static async ValueTask<string?> ReadMessageIdAsync(ContentSpool spool, CancellationToken cancellationToken)
    {
        if (spool.TryGetBuffered(out var octets))
        {
            // In memory (up to 1 MiB, nearly every message): read where it lies, no second copy.
            return MessageIdIn(octets.Span[..Math.Min(octets.Length, MaxHeaderScan)], complete: octets.Length <= MaxHeaderScan);
        }

        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(MaxHeaderScan);
        try
        {
            var length = 0;
            await using (var stream = spool.OpenRead())
            {
                int read;
                while (length < MaxHeaderScan && (read = await stream.ReadAsync(buffer.AsMemory(length, MaxHeaderScan - length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }
            }

            return MessageIdIn(buffer.AsSpan(0, length), complete: length == spool.Length);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The <c>Message-ID</c> of a message's start; <paramref name="complete"/> false when more follows it (then a last line cut off is not read).</summary>
    internal static string? MessageIdIn(ReadOnlySpan<byte> start, bool complete)
    {
        Dsn.MimeScan.BodyStart(start, out var headerLength);
        var header = start[..headerLength];
        if (!complete && headerLength == start.Length)
        {
            // No end of the header within the bound: only whole lines are looked at.
            var lastLine = header.LastIndexOf((byte)'\n');
            header = lastLine < 0 ? default : header[..(lastLine + 1)];
        }

        if (!Dsn.MimeScan.TryGetField(header, "Message-ID"u8, out var value) || Dsn.MimeScan.Text(value) is not { } text)
        {
            return null;
        }

        var id = Dsn.BounceParser.IdIn(text);
        return id is { Length: > 0 and <= QueueEntry.MaxInternetMessageIdLength } ? id : null;
    }

    private static bool AnyRecipientNeedsUtf8(SmtpEnvelope envelope, IReadOnlyList<int>? indexes)
    {
        var count = indexes?.Count ?? envelope.Recipients.Count;
        for (var i = 0; i < count; i++)
        {
            if (envelope.RecipientNeedsSmtpUtf8(indexes?[i] ?? i))
            {
                return true;
            }
        }

        return false;
    }
}
