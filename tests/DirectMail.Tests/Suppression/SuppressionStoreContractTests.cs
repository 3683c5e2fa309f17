using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using DirectMail.Dsn;
using DirectMail.Smtp;
using DirectMail.Suppression;

namespace DirectMail.Tests.Suppression;

/// <summary>
/// What every suppression store keeps to (<see cref="ISuppressionStore"/>): an entry comes back with every field, the
/// domain is compared without case and the local part exactly, the latest add wins, removal and paging.
/// </summary>
public abstract class SuppressionStoreContractTests
{
    protected static readonly DateTimeOffset At = new(2026, 12, 2, 10, 30, 15, TimeSpan.Zero);

    protected abstract ISuppressionStore Store { get; }

    protected static SuppressedRecipient Bounced(string address, DateTimeOffset? at = null) => new(address, SuppressionSource.Bounce, at ?? At)
    {
        Classification = BounceClassification.InvalidRecipient,
        Status = new EnhancedStatusCode(5, 1, 1),
        Diagnostic = "550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown",
        QueueId = "01JQ7ZP3W8X6Y5",
        MessageId = "news-1@client.test",
    };

    [Fact]
    public async Task An_entry_comes_back_with_its_reason_time_and_message()
    {
        await Store.AddAsync(Bounced("jane@example.org"));

        var found = await Store.FindAsync("jane@example.org");

        Assert.NotNull(found);
        Assert.Equal("jane@example.org", found.Address);
        Assert.Equal(SuppressionSource.Bounce, found.Source);
        Assert.Equal(BounceClassification.InvalidRecipient, found.Classification);
        Assert.Equal(new EnhancedStatusCode(5, 1, 1), found.Status);
        Assert.Equal("550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown", found.Diagnostic);
        Assert.Equal(At, found.SuppressedAt);
        Assert.Equal(TimeSpan.Zero, found.SuppressedAt.Offset);
        Assert.Equal("01JQ7ZP3W8X6Y5", found.QueueId);
        Assert.Equal("news-1@client.test", found.MessageId);
    }

    [Fact]
    public async Task The_domain_is_compared_without_case_and_the_local_part_exactly()
    {
        // Stops: a suppressed mailbox mailed again because the application spelled its domain in capitals; and one
        // mailbox's bounce suppressing another whose local part differs only in case (RFC 5321 section 2.4).
        await Store.AddAsync(Bounced("Jane.Doe@Example.ORG."));

        Assert.Equal("Jane.Doe@example.org", (await Store.FindAsync("Jane.Doe@example.org"))?.Address);
        Assert.NotNull(await Store.FindAsync("<Jane.Doe@EXAMPLE.org>"));
        Assert.Null(await Store.FindAsync("jane.doe@example.org"));
    }

    [Fact]
    public async Task A_unicode_domain_and_its_A_labels_are_one_entry()
    {
        await Store.AddAsync(Bounced("jürgen@Bücher.example"));

        Assert.Equal("jürgen@xn--bcher-kva.example", (await Store.FindAsync("jürgen@xn--BCHER-kva.example"))?.Address);
    }

    [Fact]
    public async Task The_latest_add_replaces_the_entry_and_removal_ends_it()
    {
        await Store.AddAsync(Bounced("bob@example.net"));
        await Store.AddAsync(new SuppressedRecipient("bob@EXAMPLE.net", SuppressionSource.Manual, At.AddHours(1)) { Diagnostic = "asked to stop" });

        var found = await Store.FindAsync("bob@example.net");
        Assert.Equal((SuppressionSource.Manual, BounceClassification.Other, (EnhancedStatusCode?)null, "asked to stop", At.AddHours(1), (string?)null), (found!.Source, found.Classification, found.Status, found.Diagnostic, found.SuppressedAt, found.QueueId));

        Assert.True(await Store.RemoveAsync("bob@Example.Net"));
        Assert.False(await Store.RemoveAsync("bob@example.net"));
        Assert.Null(await Store.FindAsync("bob@example.net"));
    }

    [Fact]
    public async Task The_list_comes_in_address_order_a_page_at_a_time()
    {
        foreach (var a in new[] { "c@example.com", "a@example.com", "e@example.com", "b@example.com", "d@example.com" })
        {
            await Store.AddAsync(Bounced(a));
        }

        var first = await PageAsync(null, 2);
        var second = await PageAsync(first[^1], 2);
        var third = await PageAsync(second[^1], 2);

        Assert.Equal(["a@example.com", "b@example.com"], first);
        Assert.Equal(["c@example.com", "d@example.com"], second);
        Assert.Equal(["e@example.com"], third);
    }

    [Fact]
    public async Task What_is_not_an_address_is_refused_before_the_store_is_touched()
    {
        // Stops: a lookup with a header-injection or an empty string matching or writing a bogus row.
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.FindAsync("no-at-sign"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.FindAsync("a@b\r\nRCPT TO:<x@y>"));
        Assert.Throws<ArgumentException>(() => new SuppressedRecipient("@example.com", SuppressionSource.Manual, At));
    }

    private async Task<List<string>> PageAsync(string? after, int limit)
    {
        var page = new List<string>();
        await foreach (var entry in Store.ListAsync(after, limit))
        {
            page.Add(entry.Address);
        }

        return page;
    }
}

/// <summary>The in-memory store keeps the contract.</summary>
public sealed class InMemorySuppressionStoreTests : SuppressionStoreContractTests
{
    private readonly InMemorySuppressionStore _store = new();

    protected override ISuppressionStore Store => _store;
}
