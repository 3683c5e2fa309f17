using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Doctor;

namespace DirectMail.Tests.Doctor;

/// <summary>DNS answered from memory for the SPF evaluator's unit tests; counts the queries. Names not given are NXDOMAIN; names in <see cref="Failing"/> fail.</summary>
internal sealed class FakeDoctorDns : IDoctorDns
{
    private readonly Dictionary<string, List<string>> _txt = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<IPAddress>> _addresses = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<MxHost>> _mx = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<string>> _ptr = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> Failing { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Queries { get; } = [];

    public FakeDoctorDns Txt(string name, params string[] records)
    {
        Add(_txt, name).AddRange(records);
        return this;
    }

    /// <summary>Replaces the TXT records of <paramref name="name"/>.</summary>
    public FakeDoctorDns SetTxt(string name, params string[] records)
    {
        _txt[name] = [.. records];
        return this;
    }

    public FakeDoctorDns A(string name, params string[] addresses)
    {
        Add(_addresses, name).AddRange(addresses.Select(IPAddress.Parse));
        return this;
    }

    public FakeDoctorDns Mx(string name, params string[] hosts)
    {
        Add(_mx, name).AddRange(hosts.Select((h, i) => new MxHost(10 * (i + 1), h)));
        return this;
    }

    public FakeDoctorDns Ptr(string address, params string[] names)
    {
        Add(_ptr, IPAddress.Parse(address).GetArpaName()).AddRange(names);
        return this;
    }

    /// <summary>Makes <paramref name="name"/> exist without records of the type asked (NODATA for everything).</summary>
    public FakeDoctorDns Exists(string name)
    {
        Add(_txt, name);
        return this;
    }

    public Task<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(Answer(_txt, name, "TXT", v => true));

    public Task<DnsAnswer<IPAddress>> AddressesAsync(string name, AddressFamily family, CancellationToken cancellationToken) =>
        Task.FromResult(Answer(_addresses, name, family == AddressFamily.InterNetwork ? "A" : "AAAA", a => a.AddressFamily == family));

    public Task<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(Answer(_mx, name, "MX", v => true));

    public Task<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken) =>
        Task.FromResult(Answer(_ptr, address.GetArpaName(), "PTR", v => true));

    private static List<T> Add<T>(Dictionary<string, List<T>> table, string name)
    {
        if (!table.TryGetValue(name, out var list))
        {
            table[name] = list = [];
        }

        return list;
    }

    private DnsAnswer<T> Answer<T>(Dictionary<string, List<T>> table, string name, string type, Func<T, bool> filter)
    {
        Queries.Add($"{type} {name}");
        if (Failing.Contains(name))
        {
            return new DnsAnswer<T>(DnsOutcome.Failed, [], "SERVFAIL");
        }

        if (table.TryGetValue(name, out var values))
        {
            return DnsAnswer<T>.Of(values.Where(filter).ToList());
        }

        var exists = _txt.ContainsKey(name) || _addresses.ContainsKey(name) || _mx.ContainsKey(name) || _ptr.ContainsKey(name);
        return new DnsAnswer<T>(exists ? DnsOutcome.NoData : DnsOutcome.NxDomain, []);
    }
}
