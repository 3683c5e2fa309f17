using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Which reports are claimed and sent, shared by every instance that sends for the same organization (those on one
/// queue store): each domain's report for a day is sent once, by the one instance that claims it.
/// </summary>
internal interface ITlsReportStore
{
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
