using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>
/// An <see cref="IMailQueueStore"/> in memory for the queue's tests, keeping the contract the real stores keep:
/// exclusive leases, fences that refuse every write of an older claim, InFlight becoming InDoubt when a message is
/// claimed again after its lease expired, recipients without an update due again as they were. It logs the store
/// calls in order (for the exactly-once barrier tests) and can hold a mark back for a while.
/// </summary>
internal sealed class InMemoryQueueStore : IMailQueueStore
{
    private readonly object _gate = new();
    private readonly SortedDictionary<string, Message> _messages = new(StringComparer.Ordinal);
    private readonly List<string> _log = new();

    /// <summary>Run inside MarkInFlightAsync after the state changed and before it completes (a slow commit).</summary>
    public Func<Task>? OnMarkInFlight { get; set; }

    public int Enqueues { get; private set; }

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToList();
            }
        }
    }

    public byte[] Content(string id)
    {
        lock (_gate)
        {
            return _messages[id].Content;
        }
    }

    public QueueRecipientState State(string id, int index)
    {
        lock (_gate)
        {
            return _messages[id].Recipients[index].State;
        }
    }

    /// <summary>Ends a message's lease now, as if it had run out (the next claim then takes the message over).</summary>
    public void ExpireLease(string id)
    {
        lock (_gate)
        {
            _messages[id].LeaseUntil = DateTimeOffset.MinValue;
        }
    }

    public async ValueTask EnqueueAsync(QueueEntry entry, Stream content, CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        await content.CopyToAsync(bytes, cancellationToken);
        lock (_gate)
        {
            _messages.Add(entry.MessageId, new Message(entry, bytes.ToArray()));
            Enqueues++;
            _log.Add("enqueue " + entry.MessageId);
        }
    }

    public ValueTask<IReadOnlyList<QueueClaim>> ClaimDueAsync(DateTimeOffset now, int maxMessages, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // A lease that expired with recipients in flight: they may have been sent, so they become InDoubt, and the
            // old claim is fenced off. Done for every such message, not only those with something due (a message whose
            // only recipients were in flight would otherwise stay InFlight for ever).
            foreach (var m in _messages.Values.Where(m => m.Fence > 0 && m.LeaseUntil <= now && m.Recipients.Any(r => r.State == QueueRecipientState.InFlight)))
            {
                foreach (var r in m.Recipients.Where(r => r.State == QueueRecipientState.InFlight))
                {
                    r.State = QueueRecipientState.InDoubt;
                    r.NextAttemptAt = null;
                }

                m.Fence++;
                _log.Add("in doubt " + m.Entry.MessageId);
            }

            var due = _messages.Values
                .Where(m => m.LeaseUntil <= now && m.Recipients.Any(r => IsDue(r, now)))
                .OrderBy(m => m.Recipients.Where(r => IsDue(r, now)).Min(r => r.NextAttemptAt))
                .Take(maxMessages)
                .ToList();
            var claims = new List<QueueClaim>(due.Count);
            foreach (var m in due)
            {
                m.Fence++;
                m.LeaseUntil = now + lease;
                m.Claimed = m.Recipients.Select((r, i) => (r, i)).Where(x => IsDue(x.r, now)).Select(x => x.i).ToList();
                if (m.Claimed.Count == 0)
                {
                    m.LeaseUntil = DateTimeOffset.MinValue;
                    continue;
                }

                var recipients = m.Claimed.Select(i => new QueueClaimedRecipient(i, m.Recipients[i].Address, m.Recipients[i].Attempts.Count)
                {
                    Notify = m.Entry.Recipients[i].Notify,
                    OriginalRecipient = m.Entry.Recipients[i].OriginalRecipient,
                }).ToList();
                claims.Add(new QueueClaim(m.Entry.MessageId, m.Fence, m.LeaseUntil, m.Entry.Sender, m.Entry.BodyType, m.Entry.RequiresSmtpUtf8, m.Entry.EnqueuedAt, m.Entry.ExpiresAt, recipients)
                {
                    DsnReturn = m.Entry.DsnReturn,
                    DsnEnvelopeId = m.Entry.DsnEnvelopeId,
                    RequireTls = m.Entry.RequireTls,
                    IgnoreRecipientTlsPolicy = m.Entry.IgnoreRecipientTlsPolicy,
                });
                _log.Add("claim " + m.Entry.MessageId + " " + m.Fence);
            }

            return ValueTask.FromResult<IReadOnlyList<QueueClaim>>(claims);
        }
    }

    /// <summary>Runs before the content is opened (outside the store's lock): a test can let another worker act here.</summary>
    public Func<string, Task>? OnOpenContent { get; set; }

    public async ValueTask<Stream> OpenContentAsync(string messageId, CancellationToken cancellationToken)
    {
        if (OnOpenContent is { } hook)
        {
            await hook(messageId);
        }

        lock (_gate)
        {
            // As the real stores do: the content goes with the message, and once every recipient is final.
            if (!_messages.TryGetValue(messageId, out var m) || m.Recipients.All(r => r.State is QueueRecipientState.Delivered or QueueRecipientState.Failed or QueueRecipientState.Expired))
            {
                throw new KeyNotFoundException(messageId);
            }

            return new MemoryStream(m.Content, writable: false);
        }
    }

    public async ValueTask MarkInFlightAsync(QueueClaim claim, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var m = Fenced(claim);
            foreach (var i in recipientIndexes)
            {
                var r = m.Recipients[i];
                if (r.State != QueueRecipientState.InFlight)
                {
                    r.StateBeforeFlight = r.State;
                    r.State = QueueRecipientState.InFlight;
                }
            }

            _log.Add("mark " + claim.MessageId + " " + string.Join(",", recipientIndexes));
        }

        if (OnMarkInFlight is { } hook)
        {
            await hook();
        }

        lock (_gate)
        {
            _log.Add("marked " + claim.MessageId);
        }
    }

    public ValueTask RenewLeaseAsync(QueueClaim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Fenced(claim).LeaseUntil = leaseUntil;
            _log.Add("renew " + claim.MessageId);
            return ValueTask.CompletedTask;
        }
    }

    public ValueTask CompleteAsync(QueueClaim claim, IReadOnlyList<QueueRecipientUpdate> updates, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var m = Fenced(claim);
            var updated = new HashSet<int>();
            foreach (var u in updates)
            {
                var r = m.Recipients[u.Index];
                r.State = u.State;
                r.NextAttemptAt = u.State == QueueRecipientState.Deferred ? u.NextAttemptAt : null;
                if (u.Attempt is not null)
                {
                    r.Attempts.Add(u.Attempt);
                }

                updated.Add(u.Index);
            }

            foreach (var i in m.Claimed.Where(i => !updated.Contains(i)))
            {
                var r = m.Recipients[i];
                if (r.State == QueueRecipientState.InFlight)
                {
                    r.State = r.StateBeforeFlight;
                }
            }

            m.LeaseUntil = DateTimeOffset.MinValue;
            _log.Add("complete " + claim.MessageId);
            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<QueuedMessage?> GetAsync(string messageId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_messages.TryGetValue(messageId, out var m) ? View(m) : null);
        }
    }

    public async IAsyncEnumerable<QueuedMessage> ListAsync(string? afterMessageId, int limit, bool pendingOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<QueuedMessage> page;
        lock (_gate)
        {
            page = _messages.Values
                .Where(m => afterMessageId is null || string.CompareOrdinal(m.Entry.MessageId, afterMessageId) > 0)
                .Where(m => !pendingOnly || m.Recipients.Any(r => !IsFinal(r.State)))
                .Take(limit)
                .Select(View)
                .ToList();
        }

        foreach (var m in page)
        {
            await Task.Yield();
            yield return m;
        }
    }

    public ValueTask<IReadOnlyList<string>> FindByInternetMessageIdAsync(string internetMessageId, int limit, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(internetMessageId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<string>>(_messages.Values
                .Where(m => string.Equals(m.Entry.InternetMessageId, internetMessageId, StringComparison.Ordinal))
                .Select(m => m.Entry.MessageId)
                .Take(limit)
                .ToList());
        }
    }

    public ValueTask<int> ApplyAsync(string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var targets = messageId is null ? _messages.Values.ToList() : _messages.TryGetValue(messageId, out var one) ? [one] : [];
            var changed = 0;
            foreach (var m in targets)
            {
                if (operation == QueueOperation.Delete)
                {
                    _messages.Remove(m.Entry.MessageId);
                    changed += m.Recipients.Length;
                    continue;
                }

                var changedBefore = changed;
                foreach (var r in m.Recipients)
                {
                    switch (operation)
                    {
                        case QueueOperation.Hold when r.State is QueueRecipientState.Queued or QueueRecipientState.Deferred:
                            r.State = QueueRecipientState.Held;
                            r.NextAttemptAt = null;
                            changed++;
                            break;
                        case QueueOperation.Release when r.State is QueueRecipientState.Held or QueueRecipientState.InDoubt:
                            r.State = QueueRecipientState.Queued;
                            r.NextAttemptAt = now;
                            changed++;
                            break;
                        case QueueOperation.Flush when r.State is QueueRecipientState.Queued or QueueRecipientState.Deferred && r.NextAttemptAt > now:
                            r.NextAttemptAt = now;
                            changed++;
                            break;
                        case QueueOperation.Bounce when !IsFinal(r.State):
                            r.State = QueueRecipientState.Failed;
                            r.NextAttemptAt = null;
                            r.Attempts.Add(new QueueAttempt(now, QueueRecipientState.Failed, "550 5.0.0 Bounced by an operator", null, null, "Bounced by an operator."));
                            changed++;
                            break;
                    }
                }

                // As the real stores: a hold or a bounce ends the claim the message is under, so its worker's outcome
                // cannot undo the operator's decision; what it had marked InFlight cannot get an outcome any more.
                if (operation is QueueOperation.Hold or QueueOperation.Bounce && changed > changedBefore && m.LeaseUntil != DateTimeOffset.MinValue)
                {
                    foreach (var r in m.Recipients.Where(r => r.State == QueueRecipientState.InFlight))
                    {
                        r.State = QueueRecipientState.InDoubt;
                        r.NextAttemptAt = null;
                    }

                    m.Fence++;
                    m.LeaseUntil = DateTimeOffset.MinValue;
                }
            }

            return ValueTask.FromResult(changed);
        }
    }

    public ValueTask<QueueStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var all = _messages.Values.SelectMany(m => m.Recipients).ToList();
            var byState = all.GroupBy(r => r.State).ToDictionary(g => g.Key, g => (long)g.Count());
            var pending = _messages.Values.Where(m => m.Recipients.Any(r => !IsFinal(r.State))).ToList();
            var due = all.Where(r => r.State is QueueRecipientState.Queued or QueueRecipientState.Deferred && r.NextAttemptAt is not null).Select(r => r.NextAttemptAt!.Value).ToList();
            return ValueTask.FromResult(new QueueStatistics(
                byState,
                pending.Count,
                pending.Count == 0 ? null : pending.Min(m => m.Entry.EnqueuedAt),
                due.Count == 0 ? null : due.Min(),
                all.Sum(r => (long)r.Attempts.Count)));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static bool IsDue(Recipient r, DateTimeOffset now) => r.State is QueueRecipientState.Queued or QueueRecipientState.Deferred && r.NextAttemptAt <= now;

    private static bool IsFinal(QueueRecipientState state) => state is QueueRecipientState.Delivered or QueueRecipientState.Failed or QueueRecipientState.Expired;

    private Message Fenced(QueueClaim claim)
    {
        if (!_messages.TryGetValue(claim.MessageId, out var m) || m.Fence != claim.Fence)
        {
            throw new QueueLeaseLostException(claim.MessageId, claim.Fence, m?.Fence);
        }

        return m;
    }

    private static QueuedMessage View(Message m) => new(
        m.Entry.MessageId,
        m.Entry.Sender,
        m.Content.Length,
        m.Entry.EnqueuedAt,
        m.Entry.ExpiresAt,
        m.Recipients.Select((r, i) => new QueuedRecipient(i, r.Address, r.State, r.NextAttemptAt, r.Attempts.ToList())
        {
            Notify = m.Entry.Recipients[i].Notify,
            OriginalRecipient = m.Entry.Recipients[i].OriginalRecipient,
        }).ToList())
    {
        DsnReturn = m.Entry.DsnReturn,
        DsnEnvelopeId = m.Entry.DsnEnvelopeId,
        RequireTls = m.Entry.RequireTls,
        InternetMessageId = m.Entry.InternetMessageId,
        IgnoreRecipientTlsPolicy = m.Entry.IgnoreRecipientTlsPolicy,
    };

    private sealed class Message(QueueEntry entry, byte[] content)
    {
        public QueueEntry Entry { get; } = entry;

        public byte[] Content { get; } = content;

        public Recipient[] Recipients { get; } = entry.Recipients.Select(r => new Recipient(r)).ToArray();

        public long Fence { get; set; }

        public DateTimeOffset LeaseUntil { get; set; } = DateTimeOffset.MinValue;

        public List<int> Claimed { get; set; } = new();
    }

    private sealed class Recipient(QueueEntryRecipient entry)
    {
        public string Address { get; } = entry.Address;

        public QueueRecipientState State { get; set; } = entry.State;

        public QueueRecipientState StateBeforeFlight { get; set; }

        public DateTimeOffset? NextAttemptAt { get; set; } = entry.State == QueueRecipientState.Failed ? null : entry.NextAttemptAt;

        public List<QueueAttempt> Attempts { get; } = entry.FirstAttempt is null ? new() : new() { entry.FirstAttempt };
    }
}
