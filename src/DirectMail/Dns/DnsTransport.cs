using System.Threading;
using System.Threading.Tasks;
using DnsClient;

namespace DirectMail.Dns;

/// <summary>Sends one DNS query. The seam between the resolution rules and DnsClient, so tests can count or delay queries.</summary>
internal interface IDnsTransport
{
    /// <summary>Queries <paramref name="name"/> (absolute, with the trailing dot) for <paramref name="type"/>; throws on no answer.</summary>
    Task<IDnsQueryResponse> QueryAsync(string name, QueryType type, CancellationToken cancellationToken);
}

/// <summary>The transport on a DnsClient <see cref="LookupClient"/>.</summary>
internal sealed class LookupClientTransport : IDnsTransport
{
    private readonly LookupClient _client;

    public LookupClientTransport(MxResolverOptions options)
    {
        var clientOptions = options.NameServers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions([.. options.NameServers]);

        // The resolver keeps its own cache with TTL, negative and failure rules and a TimeProvider; a second cache
        // underneath would keep answers past what those rules allow.
        clientOptions.UseCache = false;
        clientOptions.Timeout = options.QueryTimeout;
        clientOptions.Retries = options.Retries;

        // A truncated UDP answer (TC bit) is asked again over TCP (RFC 7766 section 5): a domain with many MX records
        // would otherwise lose some of them.
        clientOptions.UseTcpFallback = true;
        clientOptions.ThrowDnsErrors = false;

        // SERVFAIL or REFUSED from one server: ask the next, as a stub resolver does. An empty answer (NODATA) is an
        // answer, not a reason to ask another server.
        clientOptions.ContinueOnDnsError = true;
        clientOptions.ContinueOnEmptyResponse = false;
        clientOptions.Recursion = true;

        // The DO bit (RFC 3225) asks a validating resolver for the AD bit (RFC 6840 section 5.7); asked only when the
        // resolver's AD bit is believed, since it makes every answer larger (the RRSIG records come along).
        clientOptions.RequestDnsSecRecords = options.TrustsAuthenticatedData();
        _client = new LookupClient(clientOptions);
    }

    public Task<IDnsQueryResponse> QueryAsync(string name, QueryType type, CancellationToken cancellationToken) =>
        _client.QueryAsync(name, type, QueryClass.IN, cancellationToken);
}
