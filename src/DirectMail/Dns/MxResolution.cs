using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dns;

/// <summary>The outcome of resolving where mail for a domain goes.</summary>
public enum MxResolutionStatus
{
    /// <summary>At least one target with at least one address: deliver to <see cref="MxResolution.Targets"/> in order.</summary>
    Success = 0,

    /// <summary>The domain does not exist (NXDOMAIN). Permanent: bounce with 550 5.1.2.</summary>
    DomainNotFound,

    /// <summary>The domain publishes a null MX (RFC 7505): it accepts no mail. Permanent: bounce with 556 5.1.10; never connect, never use its A record.</summary>
    NullMx,

    /// <summary>
    /// MX records exist but none names a host with a usable address (all skipped: no such host, no address of an
    /// allowed family, IP-literal targets), or the domain has neither MX nor address records. Permanent: 550 5.4.4.
    /// </summary>
    NoUsableTargets,

    /// <summary>The domain is not a valid domain name or address literal, or its Unicode form cannot be converted to A-labels. Permanent: 553 5.1.3.</summary>
    InvalidDomain,

    /// <summary>
    /// A DNS lookup failed in a way that may pass: SERVFAIL, REFUSED, a timeout or a network error, for the MX query,
    /// or for every MX host when none could be resolved. Transient: try again later (451 4.4.3); never fall back to the
    /// domain's A record.
    /// </summary>
    DnsFailure,
}

/// <summary>An address of a mail server, with its <see cref="AddressScope"/>.</summary>
public sealed class MxAddress
{
    /// <summary>Wraps <paramref name="address"/> and classifies it.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
    public MxAddress(IPAddress address)
    {
        Address = address ?? throw new ArgumentNullException(nameof(address));
        Scope = AddressScopes.Classify(address);
    }

    /// <summary>The address to connect to, port 25.</summary>
    public IPAddress Address { get; }

    /// <summary>Where the address can be reached; only <see cref="AddressScope.Public"/> is on the Internet.</summary>
    public AddressScope Scope { get; }

    /// <summary>True when <see cref="Scope"/> is <see cref="AddressScope.Public"/>.</summary>
    public bool IsPublic => Scope == AddressScope.Public;

    /// <summary>True for an IPv6 address.</summary>
    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <inheritdoc />
    public override string ToString() => Scope == AddressScope.Public ? Address.ToString() : $"{Address} ({Scope})";
}

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

    private MxTarget(string host, int preference, ImmutableArray<MxAddress> addresses)
    {
        Host = host;
        Preference = preference;
        Addresses = addresses;
    }

    /// <summary>Creates a target from checked parts without copying them.</summary>
    internal static MxTarget Create(string host, int preference, ImmutableArray<MxAddress> addresses) => new(host, preference, addresses);

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

/// <summary>
/// Where mail for a domain goes (RFC 5321 section 5.1): the targets to try in order, or why there are none. Instances
/// are immutable and may be shared; each resolution of a domain with equal-preference hosts gets its own order.
/// </summary>
public sealed class MxResolution
{
    private MxResolution(string domain, MxResolutionStatus status, string message, ImmutableArray<MxTarget> targets, bool isImplicitMx, bool isAddressLiteral, ImmutableArray<string> warnings)
    {
        Domain = domain;
        Status = status;
        Message = message;
        Targets = targets;
        IsImplicitMx = isImplicitMx;
        IsAddressLiteral = isAddressLiteral;
        Warnings = warnings;
        FailureReply = status switch
        {
            MxResolutionStatus.Success => null,
            MxResolutionStatus.DomainNotFound => Reply(550, "5.1.2", message),
            MxResolutionStatus.NullMx => Reply(556, "5.1.10", message),
            MxResolutionStatus.NoUsableTargets => Reply(550, "5.4.4", message),
            MxResolutionStatus.InvalidDomain => Reply(553, "5.1.3", message),
            _ => Reply(451, "4.4.3", message),
        };
    }

    /// <summary>
    /// The domain as resolved: lower-case A-labels without the trailing dot, or the address literal in canonical form
    /// (<c>[192.0.2.1]</c>, <c>[IPv6:2001:db8::1]</c>). For <see cref="MxResolutionStatus.InvalidDomain"/>, the input as given.
    /// </summary>
    public string Domain { get; }

    /// <summary>What the resolution found.</summary>
    public MxResolutionStatus Status { get; }

    /// <summary>True when <see cref="Targets"/> holds at least one target.</summary>
    public bool IsSuccess => Status == MxResolutionStatus.Success;

    /// <summary>True when the failure may pass: keep the message queued and try again later (<see cref="MxResolutionStatus.DnsFailure"/>).</summary>
    public bool IsTransient => Status == MxResolutionStatus.DnsFailure;

    /// <summary>True when the failure is final: bounce the message with <see cref="FailureReply"/>.</summary>
    public bool IsPermanent => Status is not (MxResolutionStatus.Success or MxResolutionStatus.DnsFailure);

    /// <summary>A sentence for people, naming the domain and what was found.</summary>
    public string Message { get; }

    /// <summary>
    /// The servers to try, in order: lowest preference first, hosts of equal preference in random order (RFC 5321
    /// section 5.1). Each has at least one address. Empty unless <see cref="IsSuccess"/>. The addresses are not
    /// filtered by scope: check <see cref="MxAddress.Scope"/> before connecting.
    /// </summary>
    public ImmutableArray<MxTarget> Targets { get; }

    /// <summary>True when the domain has no MX records and its own addresses are the single target, preference 0 (RFC 5321 section 5.1).</summary>
    public bool IsImplicitMx { get; }

    /// <summary>True when the domain was an address literal (<c>[192.0.2.1]</c>): no DNS was used.</summary>
    public bool IsAddressLiteral { get; }

    /// <summary>What was skipped or looked odd along the way (an IP-literal MX target, an MX host that does not resolve), even on success.</summary>
    public ImmutableArray<string> Warnings { get; }

    /// <summary>
    /// The failure as an SMTP reply a bounce or delivery report can carry (<see cref="SmtpReply.IsSynthetic"/> is
    /// true): 550 5.1.2, 556 5.1.10 (RFC 7505 section 4.2), 550 5.4.4, 553 5.1.3 or 451 4.4.3. Null on success.
    /// </summary>
    public SmtpReply? FailureReply { get; }

    /// <summary>Creates a successful resolution, for example in a custom <see cref="IMxResolver"/>. The targets are used in the order given.</summary>
    /// <exception cref="ArgumentException">The domain is empty or there is no target.</exception>
    public static MxResolution FromTargets(string domain, IReadOnlyList<MxTarget> targets, bool isImplicitMx = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0)
        {
            throw new ArgumentException("A successful resolution needs at least one target.", nameof(targets));
        }

        var builder = ImmutableArray.CreateBuilder<MxTarget>(targets.Count);
        for (var i = 0; i < targets.Count; i++)
        {
            builder.Add(targets[i] ?? throw new ArgumentException("A target is null.", nameof(targets)));
        }

        return new MxResolution(domain, MxResolutionStatus.Success, $"{domain}: {targets.Count} target(s).", builder.MoveToImmutable(), isImplicitMx, domain[0] == '[', ImmutableArray<string>.Empty);
    }

    /// <summary>Creates a failed resolution, for example in a custom <see cref="IMxResolver"/>.</summary>
    /// <exception cref="ArgumentException">The status is <see cref="MxResolutionStatus.Success"/> or not defined, or the domain or message is empty.</exception>
    public static MxResolution FromFailure(string domain, MxResolutionStatus status, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        ArgumentException.ThrowIfNullOrEmpty(message);
        if (status == MxResolutionStatus.Success || !Enum.IsDefined(status))
        {
            throw new ArgumentException($"{status} is not a failure status.", nameof(status));
        }

        return new MxResolution(domain, status, message, ImmutableArray<MxTarget>.Empty, false, false, ImmutableArray<string>.Empty);
    }

    internal static MxResolution Success(string domain, string message, ImmutableArray<MxTarget> targets, bool isImplicitMx, bool isAddressLiteral, ImmutableArray<string> warnings) =>
        new(domain, MxResolutionStatus.Success, message, targets, isImplicitMx, isAddressLiteral, warnings);

    internal static MxResolution Failure(string domain, MxResolutionStatus status, string message, ImmutableArray<string> warnings) =>
        new(domain, status, message, ImmutableArray<MxTarget>.Empty, false, false, warnings);

    /// <summary>The same resolution with the targets in another order (a shuffle of a cached one); shares everything else.</summary>
    internal MxResolution WithTargets(ImmutableArray<MxTarget> targets) =>
        new(this, targets);

    private MxResolution(MxResolution template, ImmutableArray<MxTarget> targets)
    {
        Domain = template.Domain;
        Status = template.Status;
        Message = template.Message;
        Targets = targets;
        IsImplicitMx = template.IsImplicitMx;
        IsAddressLiteral = template.IsAddressLiteral;
        Warnings = template.Warnings;
        FailureReply = template.FailureReply;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        if (!IsSuccess)
        {
            return $"{Status}: {Message}";
        }

        var text = new StringBuilder(Domain).Append(IsImplicitMx ? " (implicit MX):" : ":");
        foreach (var target in Targets)
        {
            text.Append(' ').Append(target);
        }

        return text.ToString();
    }

    private static SmtpReply Reply(int code, string enhanced, string message) => new(code, [enhanced + " " + message], isSynthetic: true);
}
