using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.MtaSts;

/// <summary>
/// Where <see cref="MtaStsPolicyCache"/> keeps policies across restarts (RFC 8461 section 5.1: a policy is cached for its
/// max_age; losing it on restart would open a window for a downgrade). A queue store can implement it. Failures are
/// logged by the cache and never stop delivery.
/// </summary>
internal interface IMtaStsPolicyStore
{
    /// <summary>The policy kept for <paramref name="domain"/>, or null.</summary>
    ValueTask<StoredMtaStsPolicy?> LoadAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Keeps (or replaces) <paramref name="policy"/>'s domain's policy.</summary>
    ValueTask SaveAsync(StoredMtaStsPolicy policy, CancellationToken cancellationToken);
}
