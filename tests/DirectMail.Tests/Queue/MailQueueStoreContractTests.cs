using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue;

/// <summary>
/// The rules every <see cref="IMailQueueStore"/> keeps (its XML docs), as tests a store's test class inherits: a
/// subclass only says how to open a fresh, empty store.
/// </summary>
public abstract class MailQueueStoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private IMailQueueStore? _store;
    private int _nextId;

    protected IMailQueueStore Store => _store ?? throw new InvalidOperationException("The store is not open.");

    /// <summary>Opens a fresh, empty store.</summary>
    protected abstract ValueTask<IMailQueueStore> CreateStoreAsync();

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_enqueued_message_is_claimed_with_its_envelope_and_due_recipients()
    {
        var entry = Entry(T0, "a@example.test", "b@example.test");
        await Store.EnqueueAsync(entry, Bytes("hello"), default);

        var claims = await Store.ClaimDueAsync(T0, 10, Lease, default);

        var claim = Assert.Single(claims);
        Assert.Equal(entry.MessageId, claim.MessageId);
        Assert.Equal("sender@example.test", claim.Sender);
        Assert.Equal(SmtpBodyType.EightBit, claim.BodyType);
        Assert.True(claim.RequiresSmtpUtf8);
        Assert.Equal(T0, claim.EnqueuedAt);
        Assert.Equal(T0.AddDays(5), claim.ExpiresAt);
        Assert.Equal(T0 + Lease, claim.LeaseUntil);
        Assert.Equal(new[] { (0, "a@example.test", 0), (1, "b@example.test", 0) }, claim.Recipients.Select(r => (r.Index, r.Address, r.Attempts)));
    }

    [Fact]
    public async Task DSN_parameters_come_back_with_the_claim_and_the_operator_s_view_as_enqueued()
    {
        // Stops: a deferred message sent again without the RET, ENVID, NOTIFY or ORCPT it was first sent with (its
        // notifications would then go where the sender asked them not to, or not at all).
        var entry = new QueueEntry(NewId(), "sender@example.test",
            [
                new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0) { Notify = DsnNotify.Success | DsnNotify.Delay, OriginalRecipient = "list+a@example.org" },
                new QueueEntryRecipient("b@example.test", QueueRecipientState.Queued, T0),
                new QueueEntryRecipient("c@example.test", QueueRecipientState.Queued, T0) { Notify = DsnNotify.Never, OriginalRecipient = "jöe@exämple.org" },
            ],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5))
        {
            DsnReturn = DsnReturn.Headers,
            DsnEnvelopeId = "env+id 1",
        };
        var plain = Entry(T0, "d@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        await Store.EnqueueAsync(plain, Bytes("y"), default);

        var claims = await Store.ClaimDueAsync(T0, 10, Lease, default);

        var claim = Assert.Single(claims, c => c.MessageId == entry.MessageId);
        Assert.Equal(DsnReturn.Headers, claim.DsnReturn);
        Assert.Equal("env+id 1", claim.DsnEnvelopeId);
        Assert.Equal(
            new[] { (DsnNotify.Success | DsnNotify.Delay, "list+a@example.org"), (DsnNotify.Default, (string?)null), (DsnNotify.Never, "jöe@exämple.org") },
            claim.Recipients.Select(r => (r.Notify, r.OriginalRecipient)));
        var other = Assert.Single(claims, c => c.MessageId == plain.MessageId);
        Assert.Null(other.DsnReturn);
        Assert.Null(other.DsnEnvelopeId);
        Assert.Equal(DsnNotify.Default, Assert.Single(other.Recipients).Notify);

        var view = (await Store.GetAsync(entry.MessageId, default))!;
        Assert.Equal(DsnReturn.Headers, view.DsnReturn);
        Assert.Equal("env+id 1", view.DsnEnvelopeId);
        Assert.Equal(
            new[] { (DsnNotify.Success | DsnNotify.Delay, "list+a@example.org"), (DsnNotify.Default, (string?)null), (DsnNotify.Never, "jöe@exämple.org") },
            view.Recipients.Select(r => (r.Notify, r.OriginalRecipient)));
    }

    [Fact]
    public async Task REQUIRETLS_comes_back_with_the_claim_and_the_operator_s_view_as_enqueued()
    {
        // Stops: a REQUIRETLS message retried without it (the retry would go to hosts the sender forbade: a downgrade),
        // and a plain one retried with it (it would fail 5.7.30 where it could have been delivered).
        var strict = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { RequireTls = true };
        var plain = Entry(T0, "b@example.test");
        await Store.EnqueueAsync(strict, Bytes("x"), default);
        await Store.EnqueueAsync(plain, Bytes("y"), default);

        var claims = await Store.ClaimDueAsync(T0, 10, Lease, default);

        Assert.True(Assert.Single(claims, c => c.MessageId == strict.MessageId).RequireTls);
        Assert.False(Assert.Single(claims, c => c.MessageId == plain.MessageId).RequireTls);
        Assert.True((await Store.GetAsync(strict.MessageId, default))!.RequireTls);
        Assert.False((await Store.GetAsync(plain.MessageId, default))!.RequireTls);
    }

    [Fact]
    public async Task TLS_Required_No_comes_back_with_the_claim_and_the_operator_s_view_as_enqueued()
    {
        // Stops: a "TLS-Required: No" message retried with the recipient's MTA-STS/DANE policy (deferred until it
        // expires, where the first send would have delivered it), and a plain one retried without the policy (a
        // downgrade the sender never asked for). Each flag alone, and both, so the columns cannot be swapped.
        var ignoring = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { IgnoreRecipientTlsPolicy = true };
        var both = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("c@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { IgnoreRecipientTlsPolicy = true, RequireTls = true };
        var plain = Entry(T0, "b@example.test");
        await Store.EnqueueAsync(ignoring, Bytes("x"), default);
        await Store.EnqueueAsync(both, Bytes("z"), default);
        await Store.EnqueueAsync(plain, Bytes("y"), default);

        var claims = await Store.ClaimDueAsync(T0, 10, Lease, default);

        Assert.Equal((true, false), Flags(Assert.Single(claims, c => c.MessageId == ignoring.MessageId)));
        Assert.Equal((true, true), Flags(Assert.Single(claims, c => c.MessageId == both.MessageId)));
        Assert.Equal((false, false), Flags(Assert.Single(claims, c => c.MessageId == plain.MessageId)));
        Assert.True((await Store.GetAsync(ignoring.MessageId, default))!.IgnoreRecipientTlsPolicy);
        Assert.False((await Store.GetAsync(ignoring.MessageId, default))!.RequireTls);
        Assert.False((await Store.GetAsync(plain.MessageId, default))!.IgnoreRecipientTlsPolicy);

        static (bool Ignore, bool Require) Flags(QueueClaim claim) => (claim.IgnoreRecipientTlsPolicy, claim.RequireTls);
    }

    [Fact]
    public async Task Messages_are_found_by_their_content_Message_ID_exactly_oldest_first()
    {
        // Stops: a bounce that names only the original's Message-ID correlated with no message, or with the wrong one
        // (a Message-ID differing only in case, or one that is a prefix of another, is another message's).
        var first = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { InternetMessageId = "abc.123@sender.example" };
        var second = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("b@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { InternetMessageId = "abc.123@sender.example" };
        var upper = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("c@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { InternetMessageId = "ABC.123@sender.example" };
        var longer = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("d@example.test", QueueRecipientState.Queued, T0)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5)) { InternetMessageId = "abc.123@sender.example.org" };
        var none = Entry(T0, "e@example.test");
        foreach (var entry in new[] { first, second, upper, longer, none })
        {
            await Store.EnqueueAsync(entry, Bytes("x"), default);
        }

        Assert.Equal([first.MessageId, second.MessageId], await Store.FindByInternetMessageIdAsync("abc.123@sender.example", 10, default));
        Assert.Equal([first.MessageId], await Store.FindByInternetMessageIdAsync("abc.123@sender.example", 1, default));
        Assert.Equal([upper.MessageId], await Store.FindByInternetMessageIdAsync("ABC.123@sender.example", 10, default));
        Assert.Empty(await Store.FindByInternetMessageIdAsync("abc.123@sender", 10, default));
        Assert.Equal("abc.123@sender.example", (await Store.GetAsync(first.MessageId, default))!.InternetMessageId);
        Assert.Null((await Store.GetAsync(none.MessageId, default))!.InternetMessageId);

        // Found after its recipients are final too: bounces come back after the 250.
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default), c => c.MessageId == first.MessageId);
        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default);
        Assert.Contains(first.MessageId, await Store.FindByInternetMessageIdAsync("abc.123@sender.example", 10, default));
    }

    [Fact]
    public async Task A_recipient_failed_at_enqueue_is_kept_final_with_its_attempt_and_never_claimed()
    {
        // Stops: a suppressed recipient (failed at enqueue) claimed and sent to, or a message whose recipients were all
        // suppressed left pending for ever.
        var failed = new QueueAttempt(T0, QueueRecipientState.Failed, null, null, null, "550 5.1.1 suppressed");
        var mixed = new QueueEntry(NewId(), "sender@example.test",
            [
                new QueueEntryRecipient("gone@example.test", QueueRecipientState.Failed, T0, failed),
                new QueueEntryRecipient("ok@example.test", QueueRecipientState.Queued, T0),
            ],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5));
        var settled = new QueueEntry(NewId(), "sender@example.test", [new QueueEntryRecipient("gone2@example.test", QueueRecipientState.Failed, T0, failed)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5));
        await Store.EnqueueAsync(mixed, Bytes("mixed"), default);
        await Store.EnqueueAsync(settled, Bytes("settled"), default);

        var claim = Assert.Single(await Store.ClaimDueAsync(T0.AddDays(1), 10, Lease, default));

        Assert.Equal(mixed.MessageId, claim.MessageId);
        Assert.Equal([1], claim.Recipients.Select(r => r.Index));
        var view = (await Store.GetAsync(settled.MessageId, default))!;
        var recipient = Assert.Single(view.Recipients);
        Assert.Equal(QueueRecipientState.Failed, recipient.State);
        Assert.Null(recipient.NextAttemptAt);
        Assert.Equal("550 5.1.1 suppressed", Assert.Single(recipient.Attempts).Detail);
        Assert.Equal(QueueRecipientState.Failed, (await Store.GetAsync(mixed.MessageId, default))!.Recipients[0].State);
        Assert.DoesNotContain(settled.MessageId, (await List(null, 10, pendingOnly: true)).Select(m => m.MessageId));
        var statistics = await Store.GetStatisticsAsync(default);
        Assert.Equal(1, statistics.Messages);
        Assert.Equal(2, statistics.RecipientsByState[QueueRecipientState.Failed]);
    }

    [Fact]
    public async Task Nothing_is_claimed_before_it_is_due()
    {
        await Store.EnqueueAsync(Entry(T0.AddMinutes(10), "a@example.test"), Bytes("x"), default);

        Assert.Empty(await Store.ClaimDueAsync(T0.AddMinutes(9), 10, Lease, default));
        Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(10), 10, Lease, default));
    }

    [Fact]
    public async Task A_claim_holds_only_the_recipients_that_are_due()
    {
        var entry = new QueueEntry(NewId(), "sender@example.test",
            [new QueueEntryRecipient("now@example.test", QueueRecipientState.Queued, T0), new QueueEntryRecipient("later@example.test", QueueRecipientState.Deferred, T0.AddHours(1))],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5));
        await Store.EnqueueAsync(entry, Bytes("x"), default);

        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));

        Assert.Equal("now@example.test", Assert.Single(claim.Recipients).Address);
    }

    [Fact]
    public async Task Claims_take_the_oldest_due_first_and_at_most_the_number_asked()
    {
        var late = Entry(T0.AddMinutes(3), "late@example.test");
        var early = Entry(T0.AddMinutes(1), "early@example.test");
        var middle = Entry(T0.AddMinutes(2), "middle@example.test");
        foreach (var entry in new[] { late, early, middle })
        {
            await Store.EnqueueAsync(entry, Bytes("x"), default);
        }

        var claims = await Store.ClaimDueAsync(T0.AddMinutes(5), 2, Lease, default);

        Assert.Equal(new[] { early.MessageId, middle.MessageId }, claims.Select(c => c.MessageId));
    }

    [Fact]
    public async Task A_claimed_message_is_not_claimed_again_while_its_lease_lasts()
    {
        await Store.EnqueueAsync(Entry(T0, "a@example.test"), Bytes("x"), default);
        var first = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));

        Assert.Empty(await Store.ClaimDueAsync(T0 + Lease - TimeSpan.FromSeconds(1), 10, Lease, default));
        var second = Assert.Single(await Store.ClaimDueAsync(T0 + Lease, 10, Lease, default));
        Assert.True(second.Fence > first.Fence);
    }

    [Fact]
    public async Task A_renewed_lease_keeps_the_claim_exclusive()
    {
        await Store.EnqueueAsync(Entry(T0, "a@example.test"), Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));

        await Store.RenewLeaseAsync(claim, T0 + Lease + Lease, default);

        Assert.Empty(await Store.ClaimDueAsync(T0 + Lease, 10, Lease, default));
        Assert.Single(await Store.ClaimDueAsync(T0 + Lease + Lease, 10, Lease, default));
    }

    [Fact]
    public async Task Complete_records_each_outcome_with_its_attempt()
    {
        var entry = Entry(T0, "ok@example.test", "later@example.test", "no@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        var retryAt = T0.AddMinutes(6);

        await Store.CompleteAsync(claim,
        [
            new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 2.0.0 queued as 1")),
            new QueueRecipientUpdate(1, QueueRecipientState.Deferred, retryAt, Attempt(QueueRecipientState.Deferred, "450-4.2.0 greylisted\n450 4.2.0 come back")),
            new QueueRecipientUpdate(2, QueueRecipientState.Failed, null, Attempt(QueueRecipientState.Failed, "550 5.1.1 no such user")),
        ], default);

        var message = await Store.GetAsync(entry.MessageId, default);
        Assert.NotNull(message);
        Assert.Equal(
            new (QueueRecipientState, DateTimeOffset?, string?)[]
            {
                (QueueRecipientState.Delivered, null, "250 2.0.0 queued as 1"),
                (QueueRecipientState.Deferred, retryAt, "450-4.2.0 greylisted\n450 4.2.0 come back"),
                (QueueRecipientState.Failed, null, "550 5.1.1 no such user"),
            },
            message.Recipients.Select(r => (r.State, r.NextAttemptAt, Assert.Single(r.Attempts).Reply)));
        var attempt = message.Recipients[0].Attempts[0];
        Assert.Equal((T0, QueueRecipientState.Delivered, "mx.example.test", "127.0.0.1", "detail"),
            (attempt.StartedAt, attempt.Outcome, attempt.MxHost, attempt.ServerAddress, attempt.Detail));

        Assert.Empty(await Store.ClaimDueAsync(retryAt.AddSeconds(-1), 10, Lease, default));
        var again = Assert.Single(await Store.ClaimDueAsync(retryAt, 10, Lease, default));
        var recipient = Assert.Single(again.Recipients);
        Assert.Equal((1, 1), (recipient.Index, recipient.Attempts));
    }

    [Fact]
    public async Task Recipients_of_a_claim_without_an_update_stay_due_as_they_were()
    {
        var entry = Entry(T0, "a@example.test", "b@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default));

        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default);

        var message = await Store.GetAsync(entry.MessageId, default);
        Assert.Equal((QueueRecipientState.Queued, T0, 0), (message!.Recipients[1].State, message.Recipients[1].NextAttemptAt, message.Recipients[1].Attempts.Count));
        var again = Assert.Single(await Store.ClaimDueAsync(T0.AddMinutes(1), 10, Lease, default));
        Assert.Equal(1, Assert.Single(again.Recipients).Index);
    }

    [Fact]
    public async Task A_first_attempt_made_before_queueing_is_kept_in_the_history()
    {
        var first = Attempt(QueueRecipientState.Deferred, "451 4.7.1 try later");
        var entry = new QueueEntry(NewId(), "", [new QueueEntryRecipient("a@example.test", QueueRecipientState.Deferred, T0, first)],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5));
        await Store.EnqueueAsync(entry, Bytes("x"), default);

        var message = await Store.GetAsync(entry.MessageId, default);
        var recipient = Assert.Single(message!.Recipients);
        Assert.Equal((QueueRecipientState.Deferred, "451 4.7.1 try later"), (recipient.State, Assert.Single(recipient.Attempts).Reply));
        Assert.Equal("", message.Sender);
        Assert.Equal(1, Assert.Single(Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default)).Recipients).Attempts);
    }

    [Fact]
    public async Task A_stale_claim_can_write_nothing()
    {
        var entry = Entry(T0, "a@example.test", "b@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var stale = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        var fresh = Assert.Single(await Store.ClaimDueAsync(T0 + Lease, 10, Lease, default));
        var before = Describe(await Store.GetAsync(entry.MessageId, default));

        var complete = await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.CompleteAsync(stale,
            [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default));
        await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.MarkInFlightAsync(stale, [0, 1], default));
        await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.RenewLeaseAsync(stale, T0.AddHours(1), default));

        Assert.Equal((entry.MessageId, stale.Fence), (complete.MessageId, complete.Fence));
        Assert.Equal(before, Describe(await Store.GetAsync(entry.MessageId, default)));
        // The fresh claim is untouched by the stale one's attempts: it still writes.
        await Store.CompleteAsync(fresh, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, null)], default);
        Assert.Equal(QueueRecipientState.Delivered, (await Store.GetAsync(entry.MessageId, default))!.Recipients[0].State);
    }

    [Fact]
    public async Task Recipients_left_in_flight_by_an_expired_lease_become_in_doubt_when_the_message_is_claimed_again()
    {
        var entry = Entry(T0, "a@example.test", "b@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var dead = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.MarkInFlightAsync(dead, [0], default);
        Assert.Equal(QueueRecipientState.InFlight, (await Store.GetAsync(entry.MessageId, default))!.Recipients[0].State);

        var next = Assert.Single(await Store.ClaimDueAsync(T0 + Lease, 10, Lease, default));

        Assert.Equal(1, Assert.Single(next.Recipients).Index);
        var message = await Store.GetAsync(entry.MessageId, default);
        Assert.Equal((QueueRecipientState.InDoubt, (DateTimeOffset?)null), (message!.Recipients[0].State, message.Recipients[0].NextAttemptAt));
        await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.CompleteAsync(dead, [], default));
    }

    [Fact]
    public async Task A_message_whose_only_recipient_was_in_flight_is_not_claimed_but_becomes_in_doubt_when_its_lease_expires()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var dead = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.MarkInFlightAsync(dead, [0], default);

        Assert.Empty(await Store.ClaimDueAsync(T0 + Lease - TimeSpan.FromSeconds(1), 10, Lease, default));
        Assert.Equal(QueueRecipientState.InFlight, (await Store.GetAsync(entry.MessageId, default))!.Recipients[0].State);
        Assert.Empty(await Store.ClaimDueAsync(T0 + Lease, 10, Lease, default));

        Assert.Equal(QueueRecipientState.InDoubt, (await Store.GetAsync(entry.MessageId, default))!.Recipients[0].State);
        await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.CompleteAsync(dead,
            [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, null)], default));
        Assert.Equal(QueueRecipientState.InDoubt, (await Store.GetAsync(entry.MessageId, default))!.Recipients[0].State);
    }

    [Fact]
    public async Task A_recipient_in_flight_when_its_lease_expired_becomes_in_doubt_while_the_others_wait_for_their_time()
    {
        var entry = new QueueEntry(NewId(), "sender@example.test",
            [new QueueEntryRecipient("now@example.test", QueueRecipientState.Queued, T0), new QueueEntryRecipient("later@example.test", QueueRecipientState.Deferred, T0.AddHours(1))],
            SmtpBodyType.SevenBit, false, T0, T0.AddDays(5));
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var dead = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.MarkInFlightAsync(dead, [0], default);

        // Nothing of the message is due when the lease expires, and still the in-flight recipient does not stay so.
        Assert.Empty(await Store.ClaimDueAsync(T0 + Lease, 10, Lease, default));

        var message = await Store.GetAsync(entry.MessageId, default);
        Assert.Equal((QueueRecipientState.InDoubt, (DateTimeOffset?)null), (message!.Recipients[0].State, message.Recipients[0].NextAttemptAt));
        Assert.Equal((QueueRecipientState.Deferred, (DateTimeOffset?)T0.AddHours(1)), (message.Recipients[1].State, message.Recipients[1].NextAttemptAt));
        var refused = await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.CompleteAsync(dead,
            [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, null)], default));
        Assert.True(refused.CurrentFence > dead.Fence);
        Assert.Empty(await Store.ClaimDueAsync(T0.AddHours(1).AddSeconds(-1), 10, Lease, default));
        Assert.Equal(1, Assert.Single(Assert.Single(await Store.ClaimDueAsync(T0.AddHours(1), 10, Lease, default)).Recipients).Index);
    }

    [Fact]
    public async Task Hold_keeps_recipients_from_claims_until_release_makes_them_due_now()
    {
        var entry = Entry(T0, "a@example.test", "b@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);

        Assert.Equal(2, await Store.ApplyAsync(entry.MessageId, QueueOperation.Hold, T0, default));
        Assert.Empty(await Store.ClaimDueAsync(T0.AddHours(1), 10, Lease, default));
        Assert.All((await Store.GetAsync(entry.MessageId, default))!.Recipients, r => Assert.Equal((QueueRecipientState.Held, (DateTimeOffset?)null), (r.State, r.NextAttemptAt)));

        Assert.Equal(2, await Store.ApplyAsync(entry.MessageId, QueueOperation.Release, T0.AddHours(2), default));
        Assert.All((await Store.GetAsync(entry.MessageId, default))!.Recipients, r => Assert.Equal((QueueRecipientState.Queued, (DateTimeOffset?)T0.AddHours(2)), (r.State, r.NextAttemptAt)));
        Assert.Empty(await Store.ClaimDueAsync(T0.AddHours(1), 10, Lease, default));
        Assert.Equal(2, Assert.Single(await Store.ClaimDueAsync(T0.AddHours(2), 10, Lease, default)).Recipients.Count);
    }

    [Fact]
    public async Task Release_makes_an_in_doubt_recipient_due_again()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.InDoubt, null, Attempt(QueueRecipientState.InDoubt, null))], default);
        Assert.Empty(await Store.ClaimDueAsync(T0.AddDays(1), 10, Lease, default));

        Assert.Equal(1, await Store.ApplyAsync(null, QueueOperation.Release, T0.AddDays(1), default));

        Assert.Equal(0, Assert.Single(Assert.Single(await Store.ClaimDueAsync(T0.AddDays(1), 10, Lease, default)).Recipients).Index);
    }

    [Fact]
    public async Task Flush_makes_waiting_recipients_due_now()
    {
        var entry = Entry(T0.AddHours(4), "a@example.test");
        var other = Entry(T0.AddHours(4), "b@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        await Store.EnqueueAsync(other, Bytes("x"), default);

        Assert.Equal(1, await Store.ApplyAsync(entry.MessageId, QueueOperation.Flush, T0, default));

        Assert.Equal(entry.MessageId, Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default)).MessageId);
        Assert.Equal(1, await Store.ApplyAsync(null, QueueOperation.Flush, T0, default));
        Assert.Equal(other.MessageId, Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default)).MessageId);
    }

    [Fact]
    public async Task Bounce_fails_every_recipient_not_final_with_a_reply_saying_so()
    {
        var entry = Entry(T0, "ok@example.test", "b@example.test", "c@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default);

        Assert.Equal(2, await Store.ApplyAsync(entry.MessageId, QueueOperation.Bounce, T0.AddMinutes(1), default));

        var message = await Store.GetAsync(entry.MessageId, default);
        Assert.Equal(QueueRecipientState.Delivered, message!.Recipients[0].State);
        foreach (var recipient in message.Recipients.Skip(1))
        {
            var attempt = Assert.Single(recipient.Attempts);
            Assert.Equal((QueueRecipientState.Failed, QueueRecipientState.Failed, T0.AddMinutes(1)), (recipient.State, attempt.Outcome, attempt.StartedAt));
            Assert.Contains("operator", attempt.Reply, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Empty(await Store.ClaimDueAsync(T0.AddDays(1), 10, Lease, default));
    }

    [Fact]
    public async Task Delete_removes_the_message_and_says_how_many_recipients_it_had()
    {
        var entry = Entry(T0, "a@example.test", "b@example.test");
        var kept = Entry(T0, "c@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        await Store.EnqueueAsync(kept, Bytes("y"), default);

        Assert.Equal(2, await Store.ApplyAsync(entry.MessageId, QueueOperation.Delete, T0, default));

        Assert.Null(await Store.GetAsync(entry.MessageId, default));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await Store.OpenContentAsync(entry.MessageId, default));
        Assert.Equal(kept.MessageId, Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default)).MessageId);
        Assert.Equal(1, await Store.ApplyAsync(null, QueueOperation.Delete, T0, default));
        Assert.Null(await Store.GetAsync(kept.MessageId, default));
    }

    [Fact]
    public async Task A_claim_held_by_a_worker_loses_to_an_operator_hold()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));

        await Store.ApplyAsync(entry.MessageId, QueueOperation.Hold, T0, default);

        await Assert.ThrowsAsync<QueueLeaseLostException>(async () => await Store.CompleteAsync(claim,
            [new QueueRecipientUpdate(0, QueueRecipientState.Deferred, T0.AddMinutes(5), null)], default));
        Assert.Equal(QueueRecipientState.Held, (await Store.GetAsync(entry.MessageId, default))!.Recipients[0].State);
    }

    [Fact]
    public async Task Statistics_count_recipients_by_state_pending_messages_and_attempts()
    {
        var empty = await Store.GetStatisticsAsync(default);
        Assert.Equal((0L, (DateTimeOffset?)null, (DateTimeOffset?)null, 0L, 0), (empty.Messages, empty.OldestPendingEnqueuedAt, empty.NextDueAt, empty.Attempts, empty.RecipientsByState.Count));

        var done = Entry(T0, "a@example.test");
        var waiting = Entry(T0.AddHours(1), "b@example.test", "c@example.test");
        await Store.EnqueueAsync(done, Bytes("x"), default);
        await Store.EnqueueAsync(waiting, Bytes("x"), default);
        var claim = Assert.Single(await Store.ClaimDueAsync(T0, 10, Lease, default));
        await Store.CompleteAsync(claim, [new QueueRecipientUpdate(0, QueueRecipientState.Delivered, null, Attempt(QueueRecipientState.Delivered, "250 ok"))], default);
        await Store.ApplyAsync(waiting.MessageId, QueueOperation.Hold, T0, default);
        await Store.ApplyAsync(waiting.MessageId, QueueOperation.Release, T0.AddMinutes(30), default);

        var statistics = await Store.GetStatisticsAsync(default);

        Assert.Equal(new Dictionary<QueueRecipientState, long> { [QueueRecipientState.Delivered] = 1, [QueueRecipientState.Queued] = 2 },
            statistics.RecipientsByState.OrderBy(p => p.Key).ToDictionary());
        Assert.Equal((1L, (DateTimeOffset?)T0.AddHours(1), (DateTimeOffset?)T0.AddMinutes(30), 1L),
            (statistics.Messages, statistics.OldestPendingEnqueuedAt, statistics.NextDueAt, statistics.Attempts));
    }

    [Fact]
    public async Task Listing_pages_through_messages_in_id_order()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var entry = Entry(T0, $"r{i}@example.test");
            ids.Add(entry.MessageId);
            await Store.EnqueueAsync(entry, Bytes("x"), default);
        }

        var pages = new List<List<string>>();
        string? after = null;
        while (true)
        {
            var page = await List(after, 2, pendingOnly: false);
            if (page.Count == 0)
            {
                break;
            }

            pages.Add(page.Select(m => m.MessageId).ToList());
            after = page[^1].MessageId;
        }

        Assert.Equal(new[] { ids[..2], ids[2..4], ids[4..] }, pages);
        var first = (await List(null, 1, pendingOnly: false))[0];
        Assert.Equal(("sender@example.test", 1L, T0, "r0@example.test"), (first.Sender, first.Size, first.EnqueuedAt, first.Recipients[0].Address));
    }

    [Fact]
    public async Task Pending_listings_leave_out_messages_whose_recipients_are_all_final()
    {
        var done = Entry(T0, "a@example.test");
        var pending = Entry(T0, "b@example.test");
        await Store.EnqueueAsync(done, Bytes("x"), default);
        await Store.EnqueueAsync(pending, Bytes("x"), default);
        await Store.ApplyAsync(done.MessageId, QueueOperation.Bounce, T0, default);

        Assert.Equal(new[] { pending.MessageId }, (await List(null, 10, pendingOnly: true)).Select(m => m.MessageId));
        Assert.Equal(new[] { done.MessageId, pending.MessageId }, (await List(null, 10, pendingOnly: false)).Select(m => m.MessageId));
    }

    public static TheoryData<int> ContentSizes => new() { 1, 10 * 1024, 5 * 1024 * 1024 };

    [Theory]
    [MemberData(nameof(ContentSizes))]
    public async Task Content_comes_back_byte_for_byte(int size)
    {
        var content = new byte[size];
        new Random(size).NextBytes(content);
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, new MemoryStream(content), default);

        Assert.Equal(SHA256.HashData(content), await ReadHash(entry.MessageId));
        Assert.Equal(size, (await Store.GetAsync(entry.MessageId, default))!.Size);
    }

    [Fact]
    public async Task Every_octet_value_comes_back_from_a_stream_that_cannot_seek()
    {
        var content = new byte[3 * 256 * 1024 + 17];
        for (var i = 0; i < content.Length; i++)
        {
            content[i] = (byte)(i * 7);
        }

        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, new ForwardOnlyStream(content, maxReadSize: 1000), default);

        Assert.Equal(SHA256.HashData(content), await ReadHash(entry.MessageId));
        Assert.Equal(content.Length, (await Store.GetAsync(entry.MessageId, default))!.Size);
    }

    [Fact]
    public async Task Empty_content_is_kept_as_empty()
    {
        var entry = Entry(T0, "a@example.test");
        await Store.EnqueueAsync(entry, new MemoryStream(), default);

        await using var stream = await Store.OpenContentAsync(entry.MessageId, default);
        Assert.Equal(-1, stream.ReadByte());
        Assert.Single(await Store.ClaimDueAsync(T0, 1, Lease, default));
    }

    [Fact]
    public async Task Many_concurrent_enqueues_are_all_kept()
    {
        var entries = Enumerable.Range(0, 400).Select(i => Entry(T0, $"r{i}@example.test")).ToList();

        await Task.WhenAll(entries.Select(e => Task.Run(async () => await Store.EnqueueAsync(e, Bytes(e.MessageId), default))));

        var listed = await List(null, 1000, pendingOnly: true);
        Assert.Equal(entries.Select(e => e.MessageId).Order(StringComparer.Ordinal), listed.Select(m => m.MessageId));
        foreach (var entry in entries.Take(20))
        {
            await using var stream = await Store.OpenContentAsync(entry.MessageId, default);
            Assert.Equal(entry.MessageId, await new StreamReader(stream).ReadToEndAsync());
        }
    }

    [Fact]
    public async Task Concurrent_claimers_never_take_the_same_message()
    {
        for (var i = 0; i < 60; i++)
        {
            await Store.EnqueueAsync(Entry(T0, $"r{i}@example.test"), Bytes("x"), default);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(async () => await Store.ClaimDueAsync(T0, 7, Lease, default))));

        var ids = claims.SelectMany(c => c).Select(c => c.MessageId).ToList();
        Assert.Equal(60, ids.Count);
        Assert.Equal(60, ids.Distinct().Count());
    }

    protected string NewId() => $"m{T0.UtcTicks}-{Interlocked.Increment(ref _nextId):D6}";

    protected QueueEntry Entry(DateTimeOffset due, params string[] recipients)
        => new(NewId(), "sender@example.test", recipients.Select(r => new QueueEntryRecipient(r, QueueRecipientState.Queued, due)).ToList(),
            SmtpBodyType.EightBit, true, due, due.AddDays(5));

    protected static MemoryStream Bytes(string text) => new(System.Text.Encoding.UTF8.GetBytes(text));

    protected static QueueAttempt Attempt(QueueRecipientState outcome, string? reply) => new(T0, outcome, reply, "mx.example.test", "127.0.0.1", "detail");

    protected async Task<List<QueuedMessage>> List(string? after, int limit, bool pendingOnly)
    {
        var list = new List<QueuedMessage>();
        await foreach (var message in Store.ListAsync(after, limit, pendingOnly, default))
        {
            list.Add(message);
        }

        return list;
    }

    protected async Task<byte[]> ReadHash(string messageId)
    {
        await using var stream = await Store.OpenContentAsync(messageId, default);
        return await SHA256.HashDataAsync(stream);
    }

    /// <summary>What a store's quarantine leaves: every recipient Held, not due, with one attempt whose detail says why.</summary>
    protected static void AssertQuarantined(QueuedMessage? message, string reason)
    {
        Assert.NotNull(message);
        Assert.All(message.Recipients, r =>
        {
            Assert.Equal((QueueRecipientState.Held, (DateTimeOffset?)null), (r.State, r.NextAttemptAt));
            var attempt = Assert.Single(r.Attempts);
            Assert.Equal(QueueRecipientState.Held, attempt.Outcome);
            Assert.Contains(reason, attempt.Detail, StringComparison.Ordinal);
        });
    }

    /// <summary>Every recipient's state, due time and attempt replies: what a stale write must not change.</summary>
    protected static string Describe(QueuedMessage? message)
        => message is null ? "none" : string.Join("; ", message.Recipients.Select(r =>
            $"{r.Index} {r.State} {r.NextAttemptAt:O} [{string.Join(", ", r.Attempts.Select(a => a.Reply))}]"));
}
