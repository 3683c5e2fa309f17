using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Queue;

/// <summary>
/// Delivers what a <see cref="MailQueue"/> holds: claims due messages from the store, sends each message's due
/// recipients of one domain in one <see cref="DirectMailer"/> send (one transaction carries them), and records every
/// recipient's outcome and attempt in one step per message. Deferred recipients come back on the retry schedule; a
/// destination that could not be reached at all, or that rate-limited, is left alone until its retry time, and its
/// other messages are deferred without a connection. The end of every message goes out only after the store marked
/// its recipients InFlight (see <see cref="QueueRecipientState.InDoubt"/>).
/// </summary>
/// <remarks>
/// Stopping (the token of <see cref="RunAsync"/>): no new message is claimed; the sends in progress are canceled, a
/// transaction whose end of message was already sent still gets its reply (the mailer waits for it); every outcome had
/// is recorded, and the recipients that had none are due again at once, with no attempt counted. A process killed
/// instead leaves its claims to lease expiry: recipients it had marked InFlight become InDoubt, the others due again.
/// </remarks>
public sealed class MailQueueWorker
{
    private readonly MailQueue _queue;
    private readonly IQueueSender _sender;
    private readonly IMailQueueStore _store;
    private readonly MailQueueOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DestinationMemory _destinations = new();
    private readonly DestinationLimitRules _limitRules;
    private readonly IQueueLimitStore _limits;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _slotReleased = new(StringComparer.Ordinal);
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private long _holders;
    private DateTimeOffset _statisticsReadAt = DateTimeOffset.MinValue;
    private int _running;

    /// <summary>Creates a worker for a queue, delivering through a mailer.</summary>
    /// <param name="queue">The queue (its store, options and clock).</param>
    /// <param name="mailer">The mailer; the worker's sends never hand off to <see cref="DirectMailer.OnDeferred"/>.</param>
    /// <param name="loggerFactory">For the logs; null for the queue's.</param>
    public MailQueueWorker(MailQueue queue, DirectMailer mailer, ILoggerFactory? loggerFactory = null)
        : this(queue, new MailerQueueSender(mailer ?? throw new ArgumentNullException(nameof(mailer))), loggerFactory)
    {
        // A store that keeps MTA-STS policies keeps the mailer's (RFC 8461 section 5.1: a restart must not forget them).
        if (queue.Store is Security.MtaSts.IMtaStsPolicyStoreSource source)
        {
            mailer.KeepMtaStsPoliciesIn(source.MtaStsPolicies);
        }
    }

    internal MailQueueWorker(MailQueue queue, IQueueSender sender, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(queue);
        _queue = queue;
        _sender = sender;
        _store = queue.Store;
        _options = queue.Options;
        _time = queue.Time;
        _logger = loggerFactory?.CreateLogger("DirectMail.Queue") ?? queue.Logger;
        _limitRules = new DestinationLimitRules(_options);

        // A store that shares limits holds them for every instance on it; otherwise this worker keeps its own.
        _limits = _store as IQueueLimitStore ?? new InProcessLimitStore();
    }

    internal DestinationMemory Destinations => _destinations;

    /// <summary>Where the per-destination limits are kept: the store, when it shares them, else this worker's memory.</summary>
    internal IQueueLimitStore Limits => _limits;

    /// <summary>
    /// Delivers until <paramref name="cancellationToken"/> is canceled: claims what is due, then sleeps until the next due
    /// time, <see cref="MailQueueOptions.IdlePollInterval"/>, or an enqueue in this process. Returns once stopped (see the
    /// remarks of <see cref="MailQueueWorker"/>); store failures are logged and retried, never thrown.
    /// </summary>
    /// <param name="cancellationToken">Stops the worker.</param>
    /// <exception cref="InvalidOperationException">This worker is already running.</exception>
    public Task RunAsync(CancellationToken cancellationToken) => RunCoreAsync(untilEmpty: false, cancellationToken);

    /// <summary>
    /// Delivers until no recipient is left Queued or Deferred (every one delivered, failed, expired, held or in doubt),
    /// waiting for deferred recipients' retry times as <see cref="RunAsync"/> does; or until canceled.
    /// </summary>
    /// <param name="cancellationToken">Stops the worker.</param>
    /// <exception cref="InvalidOperationException">This worker is already running.</exception>
    public Task RunUntilEmptyAsync(CancellationToken cancellationToken) => RunCoreAsync(untilEmpty: true, cancellationToken);

    /// <summary>Tests: claims and delivers what is due now, batch after batch, until nothing is; returns the claims handled.</summary>
    internal async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var claims = await _store.ClaimDueAsync(_time.GetUtcNow(), _options.ClaimBatchSize, _options.LeaseDuration, cancellationToken).ConfigureAwait(false);
            if (claims.Count == 0)
            {
                return total;
            }

            var tasks = new Task[claims.Count];
            for (var i = 0; i < tasks.Length; i++)
            {
                tasks[i] = ProcessClaimAsync(claims[i], cancellationToken);
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
            total += claims.Count;
        }
    }

    internal static QueueAttempt ToAttempt(RecipientDelivery delivery, DateTimeOffset startedAt, QueueRecipientState outcome)
    {
        // A reply DirectMail made itself (DNS, a refused private address) is no server's: it goes in the detail.
        var reply = delivery.Reply is { IsSynthetic: false } real ? real.ToString() : null;
        var detail = delivery.Detail ?? (delivery.Reply is { IsSynthetic: true } made ? made.ToString() : null);
        return new QueueAttempt(startedAt, outcome, reply, delivery.MxHost, delivery.ServerAddress?.ToString(), detail);
    }

    private async Task RunCoreAsync(bool untilEmpty, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("This worker is already running.");
        }

        var running = new List<Task>();
        QueueLog.WorkerStarted(_logger, _options.MaxConcurrentDeliveries);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                running.RemoveAll(static t => t.IsCompleted);
                await RefreshStaleStatisticsAsync(cancellationToken).ConfigureAwait(false);
                var wake = _queue.WakeTask;
                var wanted = Math.Min(_options.MaxConcurrentDeliveries - running.Count, _options.ClaimBatchSize);
                var claimed = 0;
                if (wanted > 0)
                {
                    IReadOnlyList<QueueClaim> claims;
                    try
                    {
                        claims = await _store.ClaimDueAsync(_time.GetUtcNow(), wanted, _options.LeaseDuration, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception e)
                    {
                        QueueLog.StoreFailed(_logger, "claim", e);
                        await WaitAsync(wake, running, _options.IdlePollInterval, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    foreach (var claim in claims)
                    {
                        running.Add(ProcessClaimAsync(claim, cancellationToken));
                    }

                    claimed = claims.Count;
                    if (claimed == wanted)
                    {
                        continue; // there may be more due
                    }
                }

                var delay = _options.IdlePollInterval;
                if (wanted > 0)
                {
                    try
                    {
                        var statistics = await _queue.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
                        // InFlight with nothing running here is another worker's claim, alive or killed: a killed one's
                        // become InDoubt at the first claim after its lease, so "empty" waits for that.
                        var inFlight = statistics.RecipientsByState.TryGetValue(QueueRecipientState.InFlight, out var flying) && flying > 0;
                        if (untilEmpty && running.Count == 0 && claimed == 0 && statistics.NextDueAt is null && !inFlight)
                        {
                            return;
                        }

                        if (statistics.NextDueAt is { } due)
                        {
                            // Due but not claimable is in progress here or leased elsewhere: look again soon, not at once.
                            var until = due - _time.GetUtcNow();
                            delay = until < MinimumSleep ? (claimed == 0 ? MinimumSleep : TimeSpan.Zero) : until < delay ? until : delay;
                        }
                        else if (untilEmpty && inFlight && MinimumSleep < delay)
                        {
                            delay = MinimumSleep;
                        }
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception e)
                    {
                        QueueLog.StoreFailed(_logger, "statistics", e);
                    }
                }

                if (delay > TimeSpan.Zero)
                {
                    await WaitAsync(wake, running, delay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await Task.WhenAll(running).ConfigureAwait(false);
            QueueLog.WorkerStopped(_logger);
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Reads the statistics the gauges report (depth by state, oldest message) when the last read is older than
    /// <see cref="MailQueueOptions.IdlePollInterval"/>: an idle worker reads them as it sleeps, a busy one would not.
    /// </summary>
    private async Task RefreshStaleStatisticsAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now - _statisticsReadAt < _options.IdlePollInterval)
        {
            return;
        }

        _statisticsReadAt = now;
        try
        {
            await _queue.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            QueueLog.StoreFailed(_logger, "statistics", e);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The shortest sleep when something is due that this worker could not claim (its own deliveries in progress, another instance's lease).</summary>
    private static TimeSpan MinimumSleep => TimeSpan.FromSeconds(1);

    private async Task WaitAsync(Task wake, List<Task> running, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = new List<Task>(running.Count + 2) { wake, Task.Delay(delay, _time, stop.Token) };
        tasks.AddRange(running);
        await Task.WhenAny(tasks).ConfigureAwait(false);
        stop.Cancel();
    }

    /// <summary>One claimed message: its due recipients by domain, each domain one send; then one CompleteAsync. Never throws.</summary>
    private async Task ProcessClaimAsync(QueueClaim claim, CancellationToken stopping)
    {
        var outcomes = new ClaimOutcomes(claim);
        try
        {
            // Past its maximum age a message still gets this attempt (Postfix too tries before it bounces an old
            // message): a worker that was down for days must not expire what would be delivered now.
            using (var lease = new LeaseKeeper(this, claim, stopping))
            {
                var groups = GroupByDomain(claim, outcomes);
                if (groups.Count == 1)
                {
                    foreach (var (domain, group) in groups)
                    {
                        await DeliverAsync(claim, domain, group, outcomes, lease).ConfigureAwait(false);
                    }
                }
                else
                {
                    var tasks = new List<Task>(groups.Count);
                    foreach (var (domain, group) in groups)
                    {
                        tasks.Add(DeliverAsync(claim, domain, group, outcomes, lease));
                    }

                    await Task.WhenAll(tasks).ConfigureAwait(false);
                }
            }

            if (_options.DelayWarningTime > TimeSpan.Zero)
            {
                await MarkDelayedAsync(claim, outcomes).ConfigureAwait(false);
            }

            if (_options.SendDeliveryStatusNotices)
            {
                // Queued before the outcomes are recorded (the content goes once every recipient is final): a crash in
                // between sends the notice again with the retry, rather than never.
                await NotifyAsync(claim, outcomes).ConfigureAwait(false);
            }

            try
            {
                // Recorded whatever the stopping token says: outcomes had must not be lost.
                await _store.CompleteAsync(claim, outcomes.Updates, CancellationToken.None).ConfigureAwait(false);
            }
            catch (QueueLeaseLostException)
            {
                QueueLog.LeaseLost(_logger, claim.MessageId, claim.Fence);
                return;
            }

            foreach (var item in outcomes.Events)
            {
                Record(item);
            }
        }
        catch (Exception e)
        {
            // Left to lease expiry: what was marked InFlight becomes InDoubt, the rest due again.
            QueueLog.ClaimFailed(_logger, claim.MessageId, e);
        }
    }

    private void Record(MailQueueEvent item)
    {
        if (item.Attempt is not null)
        {
            DirectMailTelemetry.QueueAttempts.Add(1, new KeyValuePair<string, object?>("directmail.outcome", QueueMetrics.StateName(item.State)));
        }

        if (item.IsDelayed)
        {
            DirectMailTelemetry.QueueDelayed.Add(1);
            QueueLog.Delayed(_logger, item.QueueId, item.Address, item.NextAttemptAt, _options.DelayWarningTime);
        }

        switch (item.State)
        {
            case QueueRecipientState.Delivered:
                QueueLog.Delivered(_logger, item.QueueId, item.Address, item.Attempt?.MxHost, item.Attempt?.Reply);
                break;
            case QueueRecipientState.Deferred when item.Attempt is null:
                QueueLog.NotTried(_logger, item.QueueId, item.Address, item.NextAttemptAt, item.Detail);
                break;
            case QueueRecipientState.Deferred:
                QueueLog.Deferred(_logger, item.QueueId, item.Address, item.NextAttemptAt, item.Attempt.Reply ?? item.Attempt.Detail);
                break;
            case QueueRecipientState.Failed:
                QueueLog.Failed(_logger, item.QueueId, item.Address, item.Attempt?.Reply ?? item.Detail);
                break;
            case QueueRecipientState.Expired:
                QueueLog.Expired(_logger, item.QueueId, item.Address, item.Attempt?.Reply ?? item.Detail);
                break;
            case QueueRecipientState.InDoubt:
                QueueLog.InDoubt(_logger, item.QueueId, item.Address, item.Attempt?.MxHost, item.Detail);
                break;
        }

        _queue.Publish(item);
    }

    /// <summary>
    /// The claim's recipients by domain (SmtpEnvelope.GetRecipientDomain). An address the store holds that is not
    /// valid any more fails at once with why.
    /// </summary>
    private static Dictionary<string, List<QueueClaimedRecipient>> GroupByDomain(QueueClaim claim, ClaimOutcomes outcomes)
    {
        var groups = new Dictionary<string, List<QueueClaimedRecipient>>(StringComparer.Ordinal);
        var addresses = new string[claim.Recipients.Count];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = claim.Recipients[i].Address;
        }

        SmtpEnvelope? all = null;
        try
        {
            all = new SmtpEnvelope(claim.Sender, addresses);
        }
        catch (ArgumentException)
        {
        }

        var sameOrder = all is not null && all.Recipients.Count == addresses.Length;
        for (var i = 0; i < addresses.Length; i++)
        {
            string domain;
            if (sameOrder)
            {
                domain = all!.GetRecipientDomain(i);
            }
            else
            {
                try
                {
                    domain = new SmtpEnvelope(claim.Sender, addresses[i]).GetRecipientDomain(0);
                }
                catch (ArgumentException e)
                {
                    outcomes.Add(claim.Recipients[i], QueueRecipientState.Failed, null, null, "The queued envelope is not valid: " + e.Message);
                    continue;
                }
            }

            if (!groups.TryGetValue(domain, out var group))
            {
                groups[domain] = group = new List<QueueClaimedRecipient>();
            }

            group.Add(claim.Recipients[i]);
        }

        return groups;
    }

    private async Task DeliverAsync(QueueClaim claim, string domain, List<QueueClaimedRecipient> group, ClaimOutcomes outcomes, LeaseKeeper lease)
    {
        var token = lease.Token;
        string destination;
        try
        {
            destination = await _sender.GetDestinationAsync(domain, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            DueAgain(group, outcomes);
            return;
        }
        catch (Exception)
        {
            destination = DestinationLimitRules.UnresolvedPrefix + domain;
        }

        var now = _time.GetUtcNow();
        if (_destinations.IsUnavailable(destination, now, out var until, out var reason))
        {
            NotTried(claim, group, outcomes, until, $"{reason}. The destination ({destination}) is left alone until {until:O}");
            return;
        }

        if (_limitRules.IsEmpty)
        {
            await SendAsync(claim, group, destination, outcomes, token).ConfigureAwait(false);
            return;
        }

        var limit = _limitRules.Match(destination);
        string? holder = null;
        try
        {
            if (limit.MaxConnections > 0)
            {
                holder = await AcquireSlotAsync(limit, token).ConfigureAwait(false);
                if (holder is null)
                {
                    var detail = string.Create(CultureInfo.InvariantCulture, $"the {limit.MaxConnections} connection slot(s) of limit '{limit.Key}' stayed in use for {_options.ConnectionSlotWait}");
                    NotTried(claim, group, outcomes, _time.GetUtcNow() + _options.ConnectionSlotWait, detail);
                    return;
                }

                lease.Hold(holder, limit);
            }

            if (limit.MessagesPerSecond > 0)
            {
                var wait = await _limits.TakeMessageTokenAsync(limit.Key, limit.MessagesPerSecond, limit.Burst, _time.GetUtcNow(), token).ConfigureAwait(false);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            await ReleaseSlotAsync(lease, limit, holder).ConfigureAwait(false);
            DueAgain(group, outcomes);
            return;
        }
        catch (Exception e)
        {
            // Without its limits a destination is not sent to (that would break them for every instance): soon again.
            QueueLog.StoreFailed(_logger, "destination limits", e);
            await ReleaseSlotAsync(lease, limit, holder).ConfigureAwait(false);
            NotTried(claim, group, outcomes, _time.GetUtcNow() + _options.ConnectionSlotWait, "the destination limits could not be read from the store: " + e.Message);
            return;
        }

        try
        {
            await SendAsync(claim, group, destination, outcomes, token).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseSlotAsync(lease, limit, holder).ConfigureAwait(false);
        }
    }

    /// <summary>The shortest wait between two looks for a free connection slot another instance may have released.</summary>
    private static TimeSpan SlotPollInterval => TimeSpan.FromSeconds(1);

    /// <summary>
    /// Takes a connection slot of the limit, waiting at most <see cref="MailQueueOptions.ConnectionSlotWait"/>: woken at
    /// once by a release in this process, and looking again every <see cref="SlotPollInterval"/> for releases by other
    /// instances and leases that ran out. Returns the holder, or null when no slot came free in time.
    /// </summary>
    private async Task<string?> AcquireSlotAsync(LimitTarget limit, CancellationToken token)
    {
        var holder = _instance + ":" + Interlocked.Increment(ref _holders).ToString(CultureInfo.InvariantCulture);
        var deadline = _time.GetUtcNow() + _options.ConnectionSlotWait;
        while (true)
        {
            // Taken before the try, so that a release between the try and the wait is not missed.
            var released = _slotReleased.GetOrAdd(limit.Key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            var now = _time.GetUtcNow();
            if (await _limits.TryAcquireConnectionSlotAsync(limit.Key, limit.MaxConnections, holder, now, now + _options.LeaseDuration, token).ConfigureAwait(false))
            {
                return holder;
            }

            var left = deadline - now;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            await Task.WhenAny(released, Task.Delay(left < SlotPollInterval ? left : SlotPollInterval, _time, stop.Token)).ConfigureAwait(false);
            stop.Cancel();
            token.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Gives a slot back (never throws: a slot not given back frees itself at the end of its lease) and wakes this process's waiters.</summary>
    private async Task ReleaseSlotAsync(LeaseKeeper lease, LimitTarget limit, string? holder)
    {
        if (holder is null)
        {
            return;
        }

        lease.Release(holder);
        try
        {
            await _limits.ReleaseConnectionSlotAsync(limit.Key, holder, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            QueueLog.StoreFailed(_logger, "connection slot release", e);
        }

        if (_slotReleased.TryRemove(limit.Key, out var waiters))
        {
            waiters.TrySetResult();
        }
    }

    /// <summary>
    /// The recipients were not tried (destination down, throttled, no connection slot): Deferred to <paramref name="at"/>
    /// with no attempt, or Expired at the message's maximum age.
    /// </summary>
    private void NotTried(QueueClaim claim, List<QueueClaimedRecipient> group, ClaimOutcomes outcomes, DateTimeOffset at, string reason)
    {
        var expiry = ExpiryOf(claim);
        var expired = _time.GetUtcNow() >= expiry;
        var detail = expired ? $"{GivenUp(claim)}, not tried: {reason}." : $"Not tried: {reason}.";
        foreach (var r in group)
        {
            outcomes.Add(r, expired ? QueueRecipientState.Expired : QueueRecipientState.Deferred, expired ? null : at < expiry ? at : expiry, null, detail);
        }
    }

    /// <summary>
    /// When the message's undelivered recipients expire: the earlier of the expiry stored at enqueue and the enqueue time
    /// plus this worker's <see cref="MailQueueOptions.MaxAge"/>, so that a shorter maximum age (<c>queue run --max-age</c>)
    /// also shortens the lives of messages already queued.
    /// </summary>
    private DateTimeOffset ExpiryOf(QueueClaim claim) => claim.ExpiresAt - claim.EnqueuedAt > _options.MaxAge ? claim.EnqueuedAt + _options.MaxAge : claim.ExpiresAt;

    private string GivenUp(QueueClaim claim) => $"Given up at the message's maximum age ({ExpiryOf(claim) - claim.EnqueuedAt}, DirectMail:Queue:MaxAge)";

    private async Task SendAsync(QueueClaim claim, List<QueueClaimedRecipient> group, string destination, ClaimOutcomes outcomes, CancellationToken token)
    {
        var recipients = new SmtpRecipient[group.Count];
        var indexes = new int[group.Count];
        for (var i = 0; i < group.Count; i++)
        {
            var r = group[i];
            recipients[i] = new SmtpRecipient(r.Address, r.Notify, r.OriginalRecipient);
            indexes[i] = r.Index;
        }

        var started = _time.GetUtcNow();
        DeliveryReport report;
        var canceled = false;
        try
        {
            // The envelope as it was enqueued: its DSN parameters (RET, ENVID, each recipient's NOTIFY and ORCPT) and
            // REQUIRETLS too (a retry never goes where the sender forbade it; an MX that cannot meet it fails at once, 5.7.30).
            var envelope = new SmtpEnvelope(claim.Sender, recipients) { DsnReturn = claim.DsnReturn, DsnEnvelopeId = claim.DsnEnvelopeId, RequireTls = claim.RequireTls };
            // TLS-Required: No as it was enqueued: MTA-STS and DANE are ignored for it, as the first send ignored them.
            var stream = await _store.OpenContentAsync(claim.MessageId, token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var content = new QueuedContent(stream, claim.BodyType, claim.RequiresSmtpUtf8, claim.IgnoreRecipientTlsPolicy, ct => _store.MarkInFlightAsync(claim, indexes, ct));
                try
                {
                    // With VERP on, the queue id is the tag of each recipient's reverse path.
                    report = await _sender.SendAsync(envelope, content, claim.MessageId, token).ConfigureAwait(false);
                }
                catch (DeliveryCanceledException e)
                {
                    report = e.Report;
                    canceled = true;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            DueAgain(group, outcomes);
            return;
        }
        catch (Exception e) when (e is IOException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            if (e is KeyNotFoundException && await IsSettledElsewhereAsync(claim, group).ConfigureAwait(false))
            {
                // The content goes only when the message is deleted or every recipient is final: this claim is stale
                // (another worker or an operator settled them after it was taken). Nothing to record; the fenced
                // completion tells that the lease was lost.
                QueueLog.ContentGone(_logger, claim.MessageId, claim.Fence);
                return;
            }

            // The stored message cannot be sent as it is: counted as a deferred attempt, so it expires in time.
            QueueLog.ContentUnreadable(_logger, claim.MessageId, e);
            foreach (var r in group)
            {
                Defer(claim, r, null, new QueueAttempt(started, QueueRecipientState.Deferred, null, null, null, "The queued message could not be sent as stored: " + e.Message), outcomes);
            }

            return;
        }

        Map(claim, group, report, canceled, destination, started, outcomes);
    }

    private void Map(QueueClaim claim, List<QueueClaimedRecipient> group, DeliveryReport report, bool canceled, string destination, DateTimeOffset started, ClaimOutcomes outcomes)
    {
        var unreachable = !canceled;
        DateTimeOffset? retryAt = null;
        SmtpReply? rateLimit = null;
        DateTimeOffset rateLimitUntil = default;
        for (var i = 0; i < group.Count; i++)
        {
            var r = group[i];
            var d = Find(report, r, i);
            if (d is null)
            {
                outcomes.Add(r, QueueRecipientState.Failed, null, null, "The same mailbox is queued twice in this message; it was sent to once.");
                continue;
            }

            if (d.Status != DeliveryStatus.Deferred || d.Reply is not null || d.MxHost is null || d.MayHaveBeenDelivered)
            {
                unreachable = false;
            }

            switch (d.Status)
            {
                case DeliveryStatus.Delivered:
                    // RFC 3461 section 4.1: NOTIFY=SUCCESS that a server without DSN could not take on is answered "relayed".
                    outcomes.Add(r, QueueRecipientState.Delivered, null, ToAttempt(d, started, QueueRecipientState.Delivered), null, relayed: !d.NextHopOfferedDsn && (r.Notify & DsnNotify.Success) != 0);
                    break;
                case DeliveryStatus.Failed:
                    outcomes.Add(r, QueueRecipientState.Failed, null, ToAttempt(d, started, QueueRecipientState.Failed), null, localReply: d.Reply is { IsSynthetic: true } made ? made : null);
                    break;
                case DeliveryStatus.Deferred when d.MayHaveBeenDelivered:
                    outcomes.Add(r, QueueRecipientState.InDoubt, null, ToAttempt(d, started, QueueRecipientState.InDoubt), "The end of the message was sent but no reply came: it may have been delivered, and is not sent again unless released.");
                    break;
                case DeliveryStatus.Deferred when canceled:
                    outcomes.Add(r, QueueRecipientState.Deferred, _time.GetUtcNow(), null, "Not tried to the end: the worker stopped; due again at once.", stopped: true);
                    break;
                default:
                    var next = Defer(claim, r, d.Reply, ToAttempt(d, started, QueueRecipientState.Deferred), outcomes);
                    if (next is { } at)
                    {
                        retryAt = retryAt is { } earlier && earlier < at ? earlier : at;
                        if (d.Reply is not null && RetrySchedule.IsRateLimit(d.Reply) && at > rateLimitUntil)
                        {
                            rateLimit = d.Reply;
                            rateLimitUntil = at;
                        }
                    }

                    break;
            }
        }

        if (unreachable && retryAt is { } until)
        {
            _destinations.MarkUnavailable(destination, until, $"no MX host of it could be reached at {started:O} (last {report.Recipients[0].MxHost}: {report.Recipients[0].Detail})");
            QueueLog.DestinationDown(_logger, destination, until);
        }
        else if (rateLimit is not null)
        {
            _destinations.MarkUnavailable(destination, rateLimitUntil, $"it rate-limited this sender at {started:O} ({rateLimit.ToString().Replace('\n', ' ')})");
            QueueLog.DestinationThrottled(_logger, destination, rateLimitUntil, rateLimit.ToString());
        }
    }

    private static RecipientDelivery? Find(DeliveryReport report, QueueClaimedRecipient r, int position)
    {
        if (position < report.Recipients.Count && string.Equals(report.Recipients[position].Address, r.Address, StringComparison.Ordinal))
        {
            return report.Recipients[position];
        }

        // The envelope dropped a duplicate: the first of its kind stands for it (it was sent once).
        foreach (var d in report.Recipients)
        {
            if (string.Equals(d.Address, r.Address, StringComparison.Ordinal))
            {
                return d;
            }
        }

        return null;
    }

    /// <summary>Deferred to the next attempt, or Expired when the message reached its maximum age; returns the due time.</summary>
    private DateTimeOffset? Defer(QueueClaim claim, QueueClaimedRecipient r, SmtpReply? reply, QueueAttempt attempt, ClaimOutcomes outcomes)
    {
        var now = _time.GetUtcNow();
        var expiry = ExpiryOf(claim);
        if (now >= expiry)
        {
            var expired = new QueueAttempt(attempt.StartedAt, QueueRecipientState.Expired, attempt.Reply, attempt.MxHost, attempt.ServerAddress, attempt.Detail);
            outcomes.Add(r, QueueRecipientState.Expired, null, expired, GivenUp(claim) + ": still undelivered.");
            return null;
        }

        var next = _queue.Schedule.NextAttempt(now, r.Attempts + 1, reply, expiry);
        outcomes.Add(r, QueueRecipientState.Deferred, next, attempt, null);
        return next;
    }

    private async ValueTask<bool> IsSettledElsewhereAsync(QueueClaim claim, List<QueueClaimedRecipient> group)
    {
        QueuedMessage? message;
        try
        {
            message = await _store.GetAsync(claim.MessageId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return false;
        }

        if (message is null)
        {
            return true;
        }

        foreach (var r in group)
        {
            var settled = false;
            foreach (var stored in message.Recipients)
            {
                if (stored.Index == r.Index)
                {
                    settled = IsFinal(stored.State);
                    break;
                }
            }

            if (!settled)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsFinal(QueueRecipientState state) =>
        state is QueueRecipientState.Delivered or QueueRecipientState.Failed or QueueRecipientState.Expired;

    private async Task NotifyAsync(QueueClaim claim, ClaimOutcomes outcomes)
    {
        DirectMail.Dsn.DeliveryStatusNotice? notice;
        try
        {
            notice = QueueNotices.Build(claim, outcomes.Events, _options.ReportingMta!, _time.GetUtcNow());
        }
        catch (ArgumentException e)
        {
            QueueLog.NoticeFailed(_logger, claim.MessageId, e);
            return;
        }

        if (notice is null)
        {
            return;
        }

        try
        {
            var id = await QueueNotices.EnqueueAsync(_queue, _store, claim, notice, CancellationToken.None).ConfigureAwait(false);
            QueueLog.NoticeQueued(_logger, claim.MessageId, id, notice.Recipients.Count);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            // The outcomes are recorded whatever happens here: a notice that cannot be made loses no mail.
            QueueLog.NoticeFailed(_logger, claim.MessageId, e);
        }
    }

    private void DueAgain(List<QueueClaimedRecipient> group, ClaimOutcomes outcomes)
    {
        var now = _time.GetUtcNow();
        foreach (var r in group)
        {
            outcomes.Add(r, QueueRecipientState.Deferred, now, null, "Not tried: the worker stopped; due again at once.", stopped: true);
        }
    }

    /// <summary>
    /// Tells, once per recipient, that it is delayed (<see cref="MailQueueOptions.DelayWarningTime"/>): on its first
    /// deferral whose attempt starts at or after that age. The recipient's history remembers it, in every store and for
    /// every instance: an attempt recorded at or after that age means the warning was given. A deferral without an
    /// attempt (destination down, no connection slot) that gives the warning records one, with no server and why, so
    /// that a recipient of a dead destination is warned once too. Only messages that old read their history.
    /// </summary>
    private async Task MarkDelayedAsync(QueueClaim claim, ClaimOutcomes outcomes)
    {
        var now = _time.GetUtcNow();
        if (now - claim.EnqueuedAt < _options.DelayWarningTime)
        {
            return;
        }

        var warnFrom = claim.EnqueuedAt + _options.DelayWarningTime;
        if (!outcomes.AnyMayWarn(warnFrom))
        {
            return;
        }

        QueuedMessage? message;
        try
        {
            message = await _store.GetAsync(claim.MessageId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The warning waits for the next deferral.
            QueueLog.StoreFailed(_logger, "history read for the delay warning", e);
            return;
        }

        if (message is not null)
        {
            outcomes.MarkDelayed(message, warnFrom, now);
        }
    }

    /// <summary>The updates and events of one claim, filled by its domains' deliveries at once.</summary>
    private sealed class ClaimOutcomes(QueueClaim claim)
    {
        private readonly List<bool> _stopped = new(claim.Recipients.Count);

        public List<QueueRecipientUpdate> Updates { get; } = new(claim.Recipients.Count);

        public List<MailQueueEvent> Events { get; } = new(claim.Recipients.Count);

        /// <summary>One recipient's outcome; <paramref name="stopped"/> when it is due again at once because the worker stopped (no outcome, so no delay warning either).</summary>
        public void Add(QueueClaimedRecipient r, QueueRecipientState state, DateTimeOffset? next, QueueAttempt? attempt, string? detail, bool stopped = false, bool relayed = false, SmtpReply? localReply = null)
        {
            lock (Updates)
            {
                Updates.Add(new QueueRecipientUpdate(r.Index, state, next, attempt));
                Events.Add(new MailQueueEvent(claim.MessageId, r.Index, r.Address, state, next, attempt, detail ?? attempt?.Detail, isRelayed: relayed) { LocalReply = localReply });
                _stopped.Add(stopped);
            }
        }

        /// <summary>Whether a deferral here could give the delay warning (called once the deliveries are done).</summary>
        public bool AnyMayWarn(DateTimeOffset warnFrom)
        {
            for (var i = 0; i < Updates.Count; i++)
            {
                if (MayWarn(i, warnFrom))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Flags the deferrals of recipients not warned yet (no attempt at or after <paramref name="warnFrom"/> in their history).</summary>
        public void MarkDelayed(QueuedMessage message, DateTimeOffset warnFrom, DateTimeOffset now)
        {
            for (var i = 0; i < Updates.Count; i++)
            {
                var update = Updates[i];
                if (!MayWarn(i, warnFrom) || WarnedBefore(message, update.Index, warnFrom))
                {
                    continue;
                }

                var item = Events[i];
                if (update.Attempt is null)
                {
                    Updates[i] = new QueueRecipientUpdate(update.Index, update.State, update.NextAttemptAt, new QueueAttempt(now, QueueRecipientState.Deferred, null, null, null, item.Detail + " (The delay warning was given.)"));
                }

                Events[i] = new MailQueueEvent(item.QueueId, item.RecipientIndex, item.Address, item.State, item.NextAttemptAt, item.Attempt, item.Detail, isDelayed: true);
            }
        }

        private bool MayWarn(int i, DateTimeOffset warnFrom)
            => Updates[i].State == QueueRecipientState.Deferred && !_stopped[i] && (Updates[i].Attempt is not { } attempt || attempt.StartedAt >= warnFrom);

        private static bool WarnedBefore(QueuedMessage message, int index, DateTimeOffset warnFrom)
        {
            foreach (var recipient in message.Recipients)
            {
                if (recipient.Index != index)
                {
                    continue;
                }

                foreach (var attempt in recipient.Attempts)
                {
                    if (attempt.StartedAt >= warnFrom)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Renews a claim's lease every third of <see cref="MailQueueOptions.LeaseDuration"/> while its deliveries run; a lost
    /// lease cancels them (a newer claim owns the message, and nothing this one does can be recorded).
    /// </summary>
    private sealed class LeaseKeeper : IDisposable
    {
        private readonly CancellationTokenSource _cts;
        private readonly CancellationTokenSource _done = new();
        private readonly ConcurrentDictionary<string, LimitTarget> _slots = new(StringComparer.Ordinal);
        private readonly Task _loop;

        public LeaseKeeper(MailQueueWorker worker, QueueClaim claim, CancellationToken stopping)
        {
            _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            Token = _cts.Token;
            _loop = RenewAsync(worker, claim);
        }

        public CancellationToken Token { get; }

        /// <summary>A connection slot this claim's delivery holds: its lease is renewed with the claim's.</summary>
        public void Hold(string holder, LimitTarget limit) => _slots[holder] = limit;

        public void Release(string holder) => _slots.TryRemove(holder, out _);

        public void Dispose()
        {
            _done.Cancel();
            _cts.Dispose();
        }

        /// <summary>
        /// Takes the held slots again, which extends their leases (a slot is held as long as the send, which may outlast a
        /// lease; a killed instance's slots come back within one lease).
        /// </summary>
        private async Task RenewSlotsAsync(MailQueueWorker worker)
        {
            foreach (var (holder, limit) in _slots)
            {
                var now = worker._time.GetUtcNow();
                try
                {
                    if (!await worker._limits.TryAcquireConnectionSlotAsync(limit.Key, limit.MaxConnections, holder, now, now + worker._options.LeaseDuration, _done.Token).ConfigureAwait(false))
                    {
                        QueueLog.SlotLost(worker._logger, limit.Key, holder);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    QueueLog.StoreFailed(worker._logger, "connection slot renewal", e);
                }
            }
        }

        private async Task RenewAsync(MailQueueWorker worker, QueueClaim claim)
        {
            var every = worker._options.LeaseDuration / 3;
            try
            {
                while (true)
                {
                    await Task.Delay(every, worker._time, _done.Token).ConfigureAwait(false);
                    await worker._store.RenewLeaseAsync(claim, worker._time.GetUtcNow() + worker._options.LeaseDuration, _done.Token).ConfigureAwait(false);
                    await RenewSlotsAsync(worker).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (QueueLeaseLostException)
            {
                QueueLog.LeaseLost(worker._logger, claim.MessageId, claim.Fence);
                try
                {
                    _cts.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
            catch (Exception e)
            {
                // The lease may still hold (a store hiccup); the next renewal, or the completion, will tell.
                QueueLog.StoreFailed(worker._logger, "lease renewal", e);
            }
        }
    }
}
