using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Suppression;

/// <summary>
/// The recipients not to be mailed again (the suppression list): addresses that hard-bounced, that a server refused as
/// unknown, or that an operator added, each with why and when. <see cref="Delivery.DirectMailer.SuppressionStore"/>
/// makes <c>SendAsync</c> (and so the queue's worker) fail them at once without sending; <see cref="BounceIngester"/> fills
/// it from the bounces that come back. Stores: <see cref="InMemorySuppressionStore"/>, and in the SQLite and PostgreSQL
/// queue packages <c>SqliteSuppressionStore</c> and <c>PostgreSqlSuppressionStore</c>. Every method is safe to call concurrently.
/// </summary>
/// <remarks>
/// Addresses are compared as RFC 5321 section 2.4 says: the domain without regard to case (and in A-labels, without a root
/// dot), the local part exactly (<c>Jane@example.com</c> and <c>jane@example.com</c> are two entries; almost every server
/// treats them as one mailbox, but only the receiving server may say so). Angle brackets around an address are ignored.
/// </remarks>
public interface ISuppressionStore
{
    /// <summary>Adds a recipient, or replaces its entry (the latest reason wins).</summary>
    /// <param name="entry">The recipient and why.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    ValueTask AddAsync(SuppressedRecipient entry, CancellationToken cancellationToken = default);

    /// <summary>Removes a recipient, so that it is mailed again.</summary>
    /// <param name="address">The address.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when it was on the list.</returns>
    /// <exception cref="System.ArgumentException">The address has no <c>@</c> with text on both sides.</exception>
    ValueTask<bool> RemoveAsync(string address, CancellationToken cancellationToken = default);

    /// <summary>The entry of a recipient, or null when it is not suppressed.</summary>
    /// <param name="address">The address (RCPT TO).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="System.ArgumentException">The address has no <c>@</c> with text on both sides.</exception>
    ValueTask<SuppressedRecipient?> FindAsync(string address, CancellationToken cancellationToken = default);

    /// <summary>The entries in address order (ordinal, by their stored form), a page at a time.</summary>
    /// <param name="afterAddress">Start after this stored address (the last of the page before); null for the start.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    IAsyncEnumerable<SuppressedRecipient> ListAsync(string? afterAddress = null, int limit = 100, CancellationToken cancellationToken = default);
}
