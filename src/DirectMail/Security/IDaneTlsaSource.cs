using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security;

/// <summary>
/// Where the transport-security decision gets DANE (RFC 7672) from: the TLSA records of <c>_25._tcp.&lt;mx&gt;</c>, their
/// DNSSEC status and that of the MX chain. Without a source, DANE does not apply. Called once per MX host per domain
/// delivery: an implementation caches what it can, and reports failures as <see cref="DaneTlsaStatus.Failed"/>, not exceptions.
/// </summary>
internal interface IDaneTlsaSource
{
    /// <summary>The DANE verdict on <paramref name="mxHost"/>, an MX host of <paramref name="domain"/>.</summary>
    /// <param name="domain">The recipient domain (its MX RRset must itself be secure for DANE to apply).</param>
    /// <param name="mxHost">The MX host name, A-labels, lower case, no trailing dot.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask<DaneTlsaLookup> LookupAsync(string domain, string mxHost, CancellationToken cancellationToken);
}
