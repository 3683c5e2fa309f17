using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Doctor;

/// <summary>The outcome of <see cref="SpfEvaluator.CheckHostAsync"/>: the result, why, and what the evaluation cost.</summary>
internal sealed record SpfEvaluation(
    SpfResult Result,
    string Reason,
    string? Record,
    int DnsLookups,
    int VoidLookups,
    IReadOnlyList<string> Trace,
    IReadOnlyList<string> Warnings);

/// <summary>
/// The SPF <c>check_host()</c> function (RFC 7208 sections 4 and 5): include, a, mx, ptr, ip4, ip6, exists, all,
/// redirect, macros, the limit of 10 DNS-querying terms and of 2 void lookups (section 4.6.4). <c>exp=</c> is parsed
/// and not fetched. One instance evaluates one check; it is not thread-safe.
/// </summary>
internal sealed class SpfEvaluator
{
    /// <summary>Section 4.6.4: at most 10 terms that cause DNS queries.</summary>
    public const int MaxDnsLookups = 10;

    /// <summary>Section 4.6.4: at most 2 lookups that return no records (NXDOMAIN or NODATA).</summary>
    public const int MaxVoidLookups = 2;

    /// <summary>Section 4.6.4: at most 10 MX records, and 10 PTR names, looked at per mechanism.</summary>
    private const int MaxNamesPerMechanism = 10;

    private readonly IDoctorDns _dns;
    private readonly List<string> _trace = [];
    private readonly List<string> _warnings = [];
    private int _lookups;
    private int _voids;

    public SpfEvaluator(IDoctorDns dns)
    {
        _dns = dns;
    }

    /// <summary>
    /// Evaluates <paramref name="domain"/>'s policy for <paramref name="ip"/>. With a null <paramref name="ip"/> every
    /// DNS-querying term is still evaluated (so that lookup limits and syntax errors show) and no address matches.
    /// </summary>
    /// <param name="ip">The sending address; null when unknown.</param>
    /// <param name="domain">The MAIL FROM domain (or the HELO name).</param>
    /// <param name="sender">The MAIL FROM address; <c>postmaster@domain</c> when it has no local part (section 4.3).</param>
    /// <param name="helo">The HELO name, for the h macro.</param>
    /// <param name="cancellationToken">Cancels the DNS queries.</param>
    public async Task<SpfEvaluation> CheckHostAsync(IPAddress? ip, string domain, string sender, string? helo, CancellationToken cancellationToken)
    {
        if (ip is { IsIPv4MappedToIPv6: true })
        {
            ip = ip.MapToIPv4();
        }

        var outcome = await CheckAsync(ip, domain.TrimEnd('.').ToLowerInvariant(), sender, helo, depth: 0, cancellationToken).ConfigureAwait(false);
        return new SpfEvaluation(outcome.Result, outcome.Reason, outcome.Record, _lookups, _voids, _trace, _warnings);
    }

    private readonly record struct Outcome(SpfResult Result, string Reason, string? Record = null);

    private async Task<Outcome> CheckAsync(IPAddress? ip, string domain, string sender, string? helo, int depth, CancellationToken cancellationToken)
    {
        if (!IsValidDomain(domain))
        {
            return new(SpfResult.None, $"'{domain}' is not a valid domain name (RFC 7208 section 4.3)");
        }

        // Section 4.4: the TXT records of the domain; section 4.5: exactly one must begin with "v=spf1".
        var txt = await _dns.TxtAsync(domain, cancellationToken).ConfigureAwait(false);
        if (txt.Outcome == DnsOutcome.Failed)
        {
            return new(SpfResult.TempError, $"the TXT query for {domain} failed: {txt.Error}");
        }

        var records = txt.Values.Where(SpfRecord.IsSpf).ToList();
        if (records.Count == 0)
        {
            return new(SpfResult.None, txt.Outcome == DnsOutcome.NxDomain ? $"{domain} does not exist" : $"{domain} has no 'v=spf1' TXT record");
        }

        if (records.Count > 1)
        {
            return new(SpfResult.PermError, $"{domain} has {records.Count} 'v=spf1' records; there must be exactly one (RFC 7208 section 4.5)", records[0]);
        }

        var text = records[0];
        var record = SpfRecord.Parse(text, out var syntaxError);
        if (record is null)
        {
            return new(SpfResult.PermError, $"the SPF record of {domain} does not parse: {syntaxError}", text);
        }

        var macros = new SpfMacroContext(ip, sender, domain, helo);
        foreach (var directive in record.Directives)
        {
            var (matched, error) = await MatchAsync(directive, ip, macros, sender, helo, depth, cancellationToken).ConfigureAwait(false);
            if (error is { } failure)
            {
                return failure with { Record = text };
            }

            if (matched)
            {
                Trace(depth, $"{domain}: '{directive.Text}' matched: {directive.Result.ToString().ToLowerInvariant()}");
                if (directive.Kind == SpfMechanismKind.All && directive.Result == SpfResult.Pass)
                {
                    _warnings.Add($"{domain} ends in '+all': every address on the Internet may send as the domain");
                }

                return new(directive.Result, $"'{directive.Text}' in the record of {domain} matched", text);
            }
        }

        // Section 6.1: redirect applies only when no mechanism matched (an "all" always does).
        if (record.Redirect is { } redirect)
        {
            if (!Count(out var limit))
            {
                return limit with { Record = text };
            }

            if (!SpfMacro.TryExpand(redirect, macros, isDomainSpec: true, out var target, out var macroError))
            {
                return new(SpfResult.PermError, $"redirect={redirect}: {macroError}", text);
            }

            Trace(depth, $"{domain}: redirect={target}");
            var redirected = await CheckAsync(ip, target.ToLowerInvariant(), sender, helo, depth + 1, cancellationToken).ConfigureAwait(false);
            return redirected.Result == SpfResult.None
                ? new(SpfResult.PermError, $"redirect={target}: {redirected.Reason} (RFC 7208 section 6.1: a permerror)", text)
                : redirected with { Record = text, Reason = Within(depth, $"redirect={target}", redirected.Reason) };
        }

        Trace(depth, $"{domain}: nothing matched: neutral");
        return new(SpfResult.Neutral, $"no mechanism in the record of {domain} matched and it has no redirect", text);
    }

    /// <summary>Evaluates one mechanism: whether it matched, or the result that ends the evaluation.</summary>
    private async Task<(bool Matched, Outcome? Error)> MatchAsync(SpfDirective directive, IPAddress? ip, SpfMacroContext macros, string sender, string? helo, int depth, CancellationToken cancellationToken)
    {
        switch (directive.Kind)
        {
            case SpfMechanismKind.All:
                return (true, null);
            case SpfMechanismKind.Ip4:
            case SpfMechanismKind.Ip6:
                return (ip is not null && InNetwork(ip, directive.Network!, directive.Kind == SpfMechanismKind.Ip4 ? directive.Cidr4 : directive.Cidr6), null);
        }

        // include, a, mx, ptr and exists query DNS: section 4.6.4 counts them.
        if (!Count(out var limit))
        {
            return (false, limit);
        }

        var target = macros.Domain;
        if (directive.DomainSpec is { } spec && !SpfMacro.TryExpand(spec, macros, isDomainSpec: true, out target, out var macroError))
        {
            return (false, new(SpfResult.PermError, $"'{directive.Text}': {macroError}"));
        }

        target = target.TrimEnd('.').ToLowerInvariant();
        var family = ip?.AddressFamily ?? AddressFamily.InterNetwork;
        var cidr = family == AddressFamily.InterNetworkV6 ? directive.Cidr6 : directive.Cidr4;
        switch (directive.Kind)
        {
            case SpfMechanismKind.Include:
            {
                // Section 5.2: pass matches; fail, softfail and neutral do not; temperror and permerror propagate; none is a permerror.
                Trace(depth, $"{macros.Domain}: include:{target}");
                var included = await CheckAsync(ip, target, sender, helo, depth + 1, cancellationToken).ConfigureAwait(false);
                return included.Result switch
                {
                    SpfResult.Pass => (true, null),
                    SpfResult.Fail or SpfResult.SoftFail or SpfResult.Neutral => (false, null),
                    SpfResult.TempError => (false, included with { Reason = Within(depth, $"include:{target}", included.Reason) }),
                    SpfResult.None => (false, new(SpfResult.PermError, $"include:{target}: {included.Reason} (RFC 7208 section 5.2: a permerror)")),
                    _ => (false, new(SpfResult.PermError, Within(depth, $"include:{target}", included.Reason))),
                };
            }

            case SpfMechanismKind.A:
            {
                var addresses = await _dns.AddressesAsync(target, family, cancellationToken).ConfigureAwait(false);
                if (Failed(addresses, directive, target, out var error))
                {
                    return (false, error);
                }

                return (ip is not null && addresses.Values.Any(a => InNetwork(ip, a, cidr)), null);
            }

            case SpfMechanismKind.Mx:
            {
                var mx = await _dns.MxAsync(target, cancellationToken).ConfigureAwait(false);
                if (Failed(mx, directive, target, out var error))
                {
                    return (false, error);
                }

                if (mx.Values.Count > MaxNamesPerMechanism)
                {
                    return (false, new(SpfResult.PermError, $"'{directive.Text}': {target} has {mx.Values.Count} MX records, more than the {MaxNamesPerMechanism} allowed (RFC 7208 section 4.6.4)"));
                }

                foreach (var host in mx.Values)
                {
                    var addresses = await _dns.AddressesAsync(host.Host, family, cancellationToken).ConfigureAwait(false);
                    if (addresses.Outcome == DnsOutcome.Failed)
                    {
                        return (false, new(SpfResult.TempError, $"'{directive.Text}': the address query for MX host {host.Host} failed: {addresses.Error}"));
                    }

                    if (ip is not null && addresses.Values.Any(a => InNetwork(ip, a, cidr)))
                    {
                        return (true, null);
                    }
                }

                return (false, null);
            }

            case SpfMechanismKind.Ptr:
            {
                _warnings.Add($"'{directive.Text}' in the record of {macros.Domain}: the ptr mechanism is slow and unreliable and should not be used (RFC 7208 section 5.5)");
                if (ip is null)
                {
                    return (false, null);
                }

                // Section 5.5: a DNS error here makes the mechanism not match rather than a temperror.
                var names = await _dns.PtrAsync(ip, cancellationToken).ConfigureAwait(false);
                if (names.IsVoid && !CountVoid(out var voidLimit))
                {
                    return (false, voidLimit);
                }

                foreach (var name in names.Values.Take(MaxNamesPerMechanism))
                {
                    if (name != target && !name.EndsWith("." + target, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var forward = await _dns.AddressesAsync(name, ip.AddressFamily, cancellationToken).ConfigureAwait(false);
                    if (forward.Values.Any(a => a.Equals(ip)))
                    {
                        return (true, null);
                    }
                }

                return (false, null);
            }

            case SpfMechanismKind.Exists:
            {
                // Section 5.7: always an A query, whatever the connection's address family.
                var addresses = await _dns.AddressesAsync(target, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
                if (Failed(addresses, directive, target, out var error))
                {
                    return (false, error);
                }

                return (addresses.Values.Count > 0, null);
            }

            default:
                throw new InvalidOperationException($"Unexpected mechanism {directive.Kind}.");
        }
    }

    /// <summary>True (with the outcome to return) when the query failed, or was one void lookup too many.</summary>
    private bool Failed<T>(DnsAnswer<T> answer, SpfDirective directive, string target, out Outcome? error)
    {
        error = null;
        if (answer.Outcome == DnsOutcome.Failed)
        {
            error = new(SpfResult.TempError, $"'{directive.Text}': the DNS query for {target} failed: {answer.Error}");
            return true;
        }

        if (answer.IsVoid && !CountVoid(out var limit))
        {
            error = limit with { Reason = $"'{directive.Text}': {target} returned no records, and {limit.Reason}" };
            return true;
        }

        return false;
    }

    private bool Count(out Outcome limit)
    {
        _lookups++;
        limit = new(SpfResult.PermError, $"the evaluation needs more than {MaxDnsLookups} DNS lookups (include, a, mx, ptr, exists, redirect; RFC 7208 section 4.6.4)");
        return _lookups <= MaxDnsLookups;
    }

    private bool CountVoid(out Outcome limit)
    {
        _voids++;
        limit = new(SpfResult.PermError, $"more than {MaxVoidLookups} lookups returned no records (RFC 7208 section 4.6.4)");
        return _voids <= MaxVoidLookups;
    }

    /// <summary>A nested result's reason, named after the top-level term that led to it (nesting deeper is in the trace).</summary>
    private static string Within(int depth, string term, string reason) => depth == 0 ? $"{term}: {reason}" : reason;

    private void Trace(int depth, string line) => _trace.Add(new string(' ', 2 * depth) + line);

    /// <summary>Section 4.3: a domain that is not a multi-label FQDN with labels of 1 to 63 octets gives "none".</summary>
    private static bool IsValidDomain(string domain)
    {
        if (domain.Length is 0 or > 253)
        {
            return false;
        }

        var labels = domain.Split('.');
        return labels.Length >= 2 && labels.All(l => l.Length is > 0 and <= 63);
    }

    /// <summary>True when the first <paramref name="prefix"/> bits of <paramref name="ip"/> and <paramref name="network"/> agree; false across families.</summary>
    internal static bool InNetwork(IPAddress ip, IPAddress network, int prefix)
    {
        if (network.IsIPv4MappedToIPv6)
        {
            network = network.MapToIPv4();
        }

        if (ip.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        var a = ip.GetAddressBytes();
        var b = network.GetAddressBytes();
        var whole = prefix / 8;
        for (var i = 0; i < whole; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        var bits = prefix % 8;
        if (bits == 0)
        {
            return true;
        }

        var mask = (byte)(0xff << (8 - bits));
        return (a[whole] & mask) == (b[whole] & mask);
    }
}
