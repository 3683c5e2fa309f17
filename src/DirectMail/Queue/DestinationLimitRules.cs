using System;
using System.Collections.Generic;

namespace DirectMail.Queue;

/// <summary>
/// Which limit a destination's deliveries count against: the first <see cref="DestinationLimit"/> one of whose MX host
/// patterns matches one of the destination's MX hosts, or else the per-destination defaults keyed by the destination
/// itself. Built once from the validated options; thread-safe (read-only).
/// </summary>
internal sealed class DestinationLimitRules
{
    /// <summary>The destination of a domain whose MX hosts are not known (the lookup failed): it matches no rule.</summary>
    public const string UnresolvedPrefix = "domain ";

    private readonly Rule[] _rules;
    private readonly double _defaultRate;
    private readonly int _defaultConnections;

    public DestinationLimitRules(MailQueueOptions options)
    {
        _rules = new Rule[options.DestinationLimits.Count];
        for (var i = 0; i < _rules.Length; i++)
        {
            var limit = options.DestinationLimits[i];
            var exact = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var suffixes = new List<string>();
            foreach (var pattern in limit.MxHosts)
            {
                var host = pattern.Trim().TrimEnd('.');
                if (host.StartsWith("*.", StringComparison.Ordinal))
                {
                    suffixes.Add(host[1..]); // ".google.com"
                }
                else
                {
                    exact.Add(host);
                }
            }

            _rules[i] = new Rule(exact, suffixes.ToArray(), new LimitTarget(limit.Name, limit.MaxMessagesPerSecond, BurstOf(limit.Burst, limit.MaxMessagesPerSecond), limit.MaxConnections));
        }

        _defaultRate = options.MaxMessagesPerSecondPerDestination;
        _defaultConnections = options.MaxConnectionsPerDestination;
    }

    /// <summary>True when no rule and no default limits anything: the worker then asks nothing of the limit store.</summary>
    public bool IsEmpty => _rules.Length == 0 && _defaultRate == 0 && _defaultConnections == 0;

    /// <summary>The limit of a destination (its MX host names, sorted and joined by spaces, as the worker keys it).</summary>
    public LimitTarget Match(string destination)
    {
        if (_rules.Length > 0 && !destination.StartsWith(UnresolvedPrefix, StringComparison.Ordinal))
        {
            foreach (var rule in _rules)
            {
                var rest = destination.AsSpan();
                while (!rest.IsEmpty)
                {
                    var space = rest.IndexOf(' ');
                    var host = space < 0 ? rest : rest[..space];
                    rest = space < 0 ? ReadOnlySpan<char>.Empty : rest[(space + 1)..];
                    if (rule.Matches(host))
                    {
                        return rule.Target;
                    }
                }
            }
        }

        return new LimitTarget(destination, _defaultRate, BurstOf(0, _defaultRate), _defaultConnections);
    }

    /// <summary>The bucket's capacity: as configured, or one second's worth and at least one message.</summary>
    private static double BurstOf(double burst, double rate) => burst > 0 ? burst : Math.Max(1, rate);

    private sealed class Rule(HashSet<string> exact, string[] suffixes, LimitTarget target)
    {
        public LimitTarget Target { get; } = target;

        public bool Matches(ReadOnlySpan<char> host)
        {
            host = host.TrimEnd('.');
            foreach (var suffix in suffixes)
            {
                if (host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            // MX host names are short; the lookup by string is rare enough (rules with exact names) to allocate.
            return exact.Count > 0 && exact.Contains(host.ToString());
        }
    }
}

/// <summary>A limit key and its limits (a rate of 0 or 0 connections: that limit does not apply).</summary>
internal readonly record struct LimitTarget(string Key, double MessagesPerSecond, double Burst, int MaxConnections);
