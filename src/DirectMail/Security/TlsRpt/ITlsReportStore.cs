using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// The counts and the report claims shared by every instance that sends for the same organization (those on one
/// queue store): each instance adds what it counted (<see cref="AddCountsAsync"/>); each domain's report for a day is
/// built from the sum and sent once, by the one instance that claims it.
/// </summary>
internal interface ITlsReportStore
{
    /// <summary>
    /// Adds one batch of counts (what an instance counted since its last batch) to the sums, in one transaction, once:
    /// a batch already added (the same <paramref name="holder"/> and <paramref name="batch"/>, sent again because the
    /// first answer was lost) is not added again.
    /// </summary>
    /// <param name="holder">The instance (unique per instance).</param>
    /// <param name="batch">The batch's number, rising per holder.</param>
    /// <param name="counts">The counts, per domain and day.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    ValueTask AddCountsAsync(string holder, long batch, IReadOnlyList<TlsReportDomainDay> counts, CancellationToken cancellationToken);

    /// <summary>The (domain, day) pairs with counts from <paramref name="from"/> to the day before <paramref name="before"/> whose report is not sent.</summary>
    ValueTask<IReadOnlyList<(string PolicyDomain, DateOnly Day)>> ListUnsentAsync(DateOnly from, DateOnly before, CancellationToken cancellationToken);

    /// <summary>The summed counts of <paramref name="policyDomain"/>'s <paramref name="day"/>: the report's content.</summary>
    ValueTask<TlsReportDomainDay> ReadCountsAsync(string policyDomain, DateOnly day, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the report of <paramref name="policyDomain"/> for <paramref name="day"/>: true for exactly one caller
    /// while the report is neither sent nor claimed by another holder whose claim runs past <paramref name="now"/>.
    /// </summary>
    /// <param name="policyDomain">The domain (lower case).</param>
    /// <param name="day">The UTC day the report covers.</param>
    /// <param name="holder">Who claims (unique per instance).</param>
    /// <param name="now">The time now.</param>
    /// <param name="claimUntil">When the claim lapses if the holder neither sends nor releases it (it crashed).</param>
    /// <param name="cancellationToken">Stops the call.</param>
    ValueTask<bool> TryClaimAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken cancellationToken);

    /// <summary>Marks the report sent: no one claims it again.</summary>
    ValueTask MarkSentAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives a claim back (the holder could not send): the next claim may take it at once.</summary>
    ValueTask ReleaseAsync(string policyDomain, DateOnly day, string holder, CancellationToken cancellationToken);
}
