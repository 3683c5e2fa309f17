using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;

namespace DirectMail.Dns;

/// <summary>One mail server to try: an MX host (or the domain itself for an implicit MX) with its addresses in the order to try them.</summary>
public sealed class MxTarget
{
    /// <summary>Creates a target, for example in a custom <see cref="IMxResolver"/>.</summary>
    /// <param name="host">The host name in A-label form without the trailing dot, or an address literal such as <c>[192.0.2.1]</c>.</param>
    /// <param name="preference">The MX preference, 0 to 65535; lower is tried first.</param>
    /// <param name="addresses">The addresses, in the order to try them; at least one.</param>
    /// <exception cref="ArgumentException">The host is empty, the preference out of range or there is no address.</exception>
    public MxTarget(string host, int preference, IReadOnlyList<MxAddress> addresses)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(addresses);
        if ((uint)preference > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(preference), preference, "An MX preference is 0 to 65535 (RFC 1035 section 3.3.9).");
        }

        if (addresses.Count == 0)
        {
            throw new ArgumentException("A target needs at least one address.", nameof(addresses));
        }

        var builder = ImmutableArray.CreateBuilder<MxAddress>(addresses.Count);
        for (var i = 0; i < addresses.Count; i++)
        {
            builder.Add(addresses[i] ?? throw new ArgumentException("An address is null.", nameof(addresses)));
        }

        Host = host;
        Preference = preference;
        Addresses = builder.MoveToImmutable();
    }

    private MxTarget(string host, int preference, ImmutableArray<MxAddress> addresses, bool isDnssecAuthenticated, string? canonicalHost)
    {
        Host = host;
        Preference = preference;
        Addresses = addresses;
        IsDnssecAuthenticated = isDnssecAuthenticated;
        CanonicalHost = canonicalHost;
    }

    /// <summary>Creates a target from checked parts without copying them.</summary>
    internal static MxTarget Create(string host, int preference, ImmutableArray<MxAddress> addresses) => new(host, preference, addresses, false, null);

    /// <summary>Creates a target from checked parts without copying them, with its DNSSEC status.</summary>
    internal static MxTarget Create(string host, int preference, ImmutableArray<MxAddress> addresses, bool isDnssecAuthenticated, string? canonicalHost) =>
        new(host, preference, addresses, isDnssecAuthenticated, canonicalHost);

    /// <summary>This target with other addresses (fewer, when a limit applies), its DNSSEC status kept.</summary>
    internal MxTarget WithAddresses(ImmutableArray<MxAddress> addresses) => new(Host, Preference, addresses, IsDnssecAuthenticated, CanonicalHost);

    /// <summary>
    /// True when the MX RRset (or, for an implicit MX, its secure absence) and this host's address records all came
    /// DNSSEC-validated from a resolver whose AD bit is believed (<see cref="MxResolverOptions.ResolverValidatesDnssec"/>):
    /// the condition for DANE to apply to this host (RFC 7672 section 2.2). False for a target made by hand.
    /// </summary>
    internal bool IsDnssecAuthenticated { get; }

    /// <summary>
    /// The name the host's address records were found at after following CNAMEs (A-labels, lower case, no trailing
    /// dot), or null when there was no CNAME: the first TLSA base domain to try (RFC 7672 section 2.2.2).
    /// </summary>
    internal string? CanonicalHost { get; }

    /// <summary>The MX host name in A-label form without the trailing dot (what to send as the TLS server name), or an address literal such as <c>[192.0.2.1]</c>.</summary>
    public string Host { get; }

    /// <summary>The MX preference: lower is tried first; 0 for an implicit MX or an address literal.</summary>
    public int Preference { get; }

    /// <summary>The host's addresses in the order to try them (by the address family preference), never empty.</summary>
    public ImmutableArray<MxAddress> Addresses { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder().Append(Preference).Append(' ').Append(Host).Append(" [");
        for (var i = 0; i < Addresses.Length; i++)
        {
            text.Append(i == 0 ? string.Empty : ", ").Append(Addresses[i]);
        }

        return text.Append(']').ToString();
    }
}
