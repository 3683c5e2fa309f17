using System;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Dns;

/// <summary>Finds where mail for a domain goes: its MX hosts and their addresses, in the order to try them (RFC 5321 section 5.1).</summary>
public interface IMxResolver
{
    /// <summary>Resolves the delivery targets of <paramref name="domain"/>.</summary>
    /// <param name="domain">
    /// The part of a recipient address after the <c>@</c>: a domain name (ASCII or Unicode, an optional trailing dot)
    /// or an address literal (<c>[192.0.2.1]</c>, <c>[IPv6:2001:db8::1]</c>). Any string is accepted: one that is not
    /// a valid domain gives <see cref="MxResolutionStatus.InvalidDomain"/>, not an exception, because it comes from
    /// message data.
    /// </param>
    /// <param name="cancellationToken">Stops waiting; a lookup shared with other callers goes on for them.</param>
    /// <returns>The targets, or why there are none. DNS failures are results (<see cref="MxResolutionStatus.DnsFailure"/>), not exceptions.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="domain"/> is null.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default);
}
