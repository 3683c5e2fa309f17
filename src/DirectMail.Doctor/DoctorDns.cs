using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DnsClient;
using DnsClient.Protocol;

namespace DirectMail.Doctor;

/// <summary>How a DNS query ended, as SPF (RFC 7208 section 4.4) and the other checks need to tell apart.</summary>
internal enum DnsOutcome
{
    /// <summary>NOERROR with records of the type asked.</summary>
    Found,

    /// <summary>NOERROR without records of that type (NODATA).</summary>
    NoData,

    /// <summary>The name does not exist (NXDOMAIN).</summary>
    NxDomain,

    /// <summary>SERVFAIL, REFUSED, a timeout or a network error: nothing is known.</summary>
    Failed,
}

/// <summary>The answer to one query: the outcome, the records' values, and why it failed.</summary>
internal sealed record DnsAnswer<T>(DnsOutcome Outcome, IReadOnlyList<T> Values, string? Error = null)
{
    public bool IsVoid => Outcome is DnsOutcome.NoData or DnsOutcome.NxDomain;

    public static DnsAnswer<T> Of(IReadOnlyList<T> values) => new(values.Count == 0 ? DnsOutcome.NoData : DnsOutcome.Found, values);

    public DnsAnswer<TOther> WithoutValues<TOther>() => new(Outcome, Array.Empty<TOther>(), Error);

    /// <summary>A short description of an answer without records, for the report.</summary>
    public string Describe(string name, string type) => Outcome switch
    {
        DnsOutcome.NxDomain => $"{name} does not exist (NXDOMAIN)",
        DnsOutcome.NoData => $"{name} has no {type} record",
        DnsOutcome.Failed => $"the {type} query for {name} failed ({Error})",
        _ => $"{name} has {Values.Count} {type} record(s)",
    };
}

/// <summary>An MX record as SPF's <c>mx</c> mechanism uses it.</summary>
internal readonly record struct MxHost(int Preference, string Host);

/// <summary>The queries the doctor makes. The seam between the checks and DnsClient, so that unit tests can answer from memory and count lookups.</summary>
internal interface IDoctorDns
{
    /// <summary>The TXT records of <paramref name="name"/>, each one's character-strings joined without spaces (RFC 7208 section 3.3).</summary>
    Task<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken);

    /// <summary>The A (<see cref="AddressFamily.InterNetwork"/>) or AAAA records of <paramref name="name"/>.</summary>
    Task<DnsAnswer<IPAddress>> AddressesAsync(string name, AddressFamily family, CancellationToken cancellationToken);

    /// <summary>The MX records of <paramref name="name"/>, host names without the trailing dot.</summary>
    Task<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken);

    /// <summary>The PTR names of <paramref name="address"/>, without the trailing dot.</summary>
    Task<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken);
}

/// <summary><see cref="IDoctorDns"/> on a DnsClient <see cref="LookupClient"/> without a cache: the doctor must see what is published now.</summary>
internal sealed class LookupClientDoctorDns : IDoctorDns
{
    private readonly LookupClient _client;

    public LookupClientDoctorDns(IReadOnlyList<IPEndPoint> nameServers, TimeSpan timeout)
    {
        var options = nameServers.Count == 0 ? new LookupClientOptions() : new LookupClientOptions([.. nameServers]);
        options.UseCache = false;
        options.Timeout = timeout;
        options.Retries = 1;
        options.UseTcpFallback = true;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = true;
        options.ContinueOnEmptyResponse = false;
        options.Recursion = true;
        _client = new LookupClient(options);
    }

    public async Task<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken)
    {
        var (failure, records) = await QueryAsync<TxtRecord>(name, QueryType.TXT, cancellationToken).ConfigureAwait(false);
        return failure?.WithoutValues<string>() ?? DnsAnswer<string>.Of(records.Select(r => string.Concat(r.Text)).ToArray());
    }

    public async Task<DnsAnswer<IPAddress>> AddressesAsync(string name, AddressFamily family, CancellationToken cancellationToken)
    {
        var type = family == AddressFamily.InterNetworkV6 ? QueryType.AAAA : QueryType.A;
        var (failure, records) = await QueryAsync<AddressRecord>(name, type, cancellationToken).ConfigureAwait(false);
        return failure?.WithoutValues<IPAddress>() ?? DnsAnswer<IPAddress>.Of(records.Where(r => r.Address.AddressFamily == family).Select(r => r.Address).ToArray());
    }

    public async Task<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken)
    {
        var (failure, records) = await QueryAsync<MxRecord>(name, QueryType.MX, cancellationToken).ConfigureAwait(false);
        return failure?.WithoutValues<MxHost>() ?? DnsAnswer<MxHost>.Of(records.Select(r => new MxHost(r.Preference, HostName(r.Exchange))).ToArray());
    }

    public async Task<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var (failure, records) = await QueryAsync<PtrRecord>(address.GetArpaName(), QueryType.PTR, cancellationToken).ConfigureAwait(false);
        return failure?.WithoutValues<string>() ?? DnsAnswer<string>.Of(records.Select(r => HostName(r.PtrDomainName)).ToArray());
    }

    /// <summary>Runs one query: a valueless answer when it failed or the name does not exist, else the records of type <typeparamref name="T"/> (possibly none).</summary>
    private async Task<(DnsAnswer<string>? Failure, List<T> Records)> QueryAsync<T>(string name, QueryType type, CancellationToken cancellationToken)
        where T : DnsResourceRecord
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(Absolute(name), type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            return (new DnsAnswer<string>(DnsOutcome.Failed, [], e.Message), []);
        }
        catch (ArgumentException e)
        {
            // DnsClient refuses names it cannot encode (a label over 63 octets, say): no such name can exist.
            return (new DnsAnswer<string>(DnsOutcome.NxDomain, [], e.Message), []);
        }

        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return (new DnsAnswer<string>(DnsOutcome.NxDomain, []), []);
        }

        if (response.HasError)
        {
            return (new DnsAnswer<string>(DnsOutcome.Failed, [], response.ErrorMessage), []);
        }

        return (null, response.Answers.OfType<T>().ToList());
    }

    private static string Absolute(string name) => name.EndsWith('.') ? name : name + ".";

    /// <summary>A name from a response in A-label form, lower case, without the trailing dot.</summary>
    internal static string HostName(DnsString name)
    {
        var value = Ascii.IsValid(name.Original) ? name.Original : name.Value;
        return (value.EndsWith('.') ? value[..^1] : value).ToLowerInvariant();
    }
}
