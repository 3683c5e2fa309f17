using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.MtaSts;

/// <summary>
/// Where the transport-security decision gets a domain's MTA-STS policy from (<see cref="MtaStsPolicyCache"/>; tests
/// use their own). A cached policy whose TXT id is current must come back synchronously and without allocating.
/// </summary>
internal interface IMtaStsPolicySource
{
    /// <summary>The policy that applies to <paramref name="domain"/> now, or none; failures are results, not exceptions.</summary>
    /// <param name="domain">The recipient domain: A-labels, lower case, no trailing dot.</param>
    /// <param name="cancellationToken">Stops waiting (a fetch in flight goes on for the cache).</param>
    ValueTask<MtaStsLookup> GetPolicyAsync(string domain, CancellationToken cancellationToken);
}
