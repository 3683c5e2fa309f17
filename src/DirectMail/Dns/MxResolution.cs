using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Dns;

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
