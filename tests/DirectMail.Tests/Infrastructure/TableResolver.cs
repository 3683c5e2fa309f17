using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// An <see cref="IMxResolver"/> from a table (domain → MX host, preference, address), for mailer tests that need no DNS
/// server; it counts the queries per domain and can answer a domain with a given failure.
/// </summary>
internal sealed class TableResolver : Dictionary<string, (string Host, int Preference, IPAddress Address)[]>, IMxResolver
{
    private readonly Dictionary<string, int> _queries = new();

    public Dictionary<string, MxResolution> Failures { get; } = new();

    public int Queries(string domain)
    {
        lock (_queries)
        {
            return _queries.GetValueOrDefault(domain);
        }
    }

    public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
    {
        lock (_queries)
        {
            _queries[domain] = _queries.GetValueOrDefault(domain) + 1;
        }

        if (Failures.TryGetValue(domain, out var failure))
        {
            return ValueTask.FromResult(failure);
        }

        var targets = this[domain].Select(t => new MxTarget(t.Host, t.Preference, [new MxAddress(t.Address)])).ToList();
        return ValueTask.FromResult(MxResolution.FromTargets(domain, targets));
    }
}
