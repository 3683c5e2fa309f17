using System;
using System.Threading;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using Polly;

namespace DirectMail.Delivery;

/// <summary>
/// What the delivery to a domain works with: the mailer's shared parts and the option values the fallback rules read.
/// Built once by <see cref="DirectMailer"/> and handed to every <see cref="DomainDelivery"/>, so that delivery never
/// reaches back up into the mailer.
/// </summary>
internal sealed class DeliveryContext
{
    public required IMxResolver Resolver { get; init; }

    public required SmtpConnectionPool Pool { get; init; }

    /// <summary>Addresses that answered 421, shared by every call.</summary>
    public required HostBackoff Backoff { get; init; }

    /// <summary>The outer retry (one execution is one round over the MX addresses).</summary>
    public required ResiliencePipeline<DeliveryAttemptOutcome> Pipeline { get; init; }

    public required ILogger Logger { get; init; }

    public required TimeProvider Time { get; init; }

    /// <summary>
    /// <see cref="DirectMailOptions.MaxConcurrentDomains"/>: held by a domain's MX lookup and connection while they are not
    /// slow, and by its session while it transacts (the rule is in DomainDelivery). Retry delays hold none.
    /// </summary>
    public required SemaphoreSlim SessionSlots { get; init; }

    /// <summary><see cref="DirectMailOptions.Port"/>: the port of every MX address.</summary>
    public required int Port { get; init; }

    /// <summary><see cref="DirectMailOptions.AllowPrivateTargets"/>.</summary>
    public required bool AllowPrivateTargets { get; init; }

    /// <summary><see cref="DirectMailOptions.MaxAddressesPerDomain"/>.</summary>
    public required int MaxAddressesPerDomain { get; init; }

    /// <summary><see cref="DirectMailOptions.MaxRecipientsPerTransaction"/>.</summary>
    public required int MaxRecipientsPerTransaction { get; init; }

    /// <summary><see cref="DirectMailOptions.TlsMode"/>: with opportunistic TLS a failed handshake is tried again in plaintext.</summary>
    public required SmtpTlsMode TlsMode { get; init; }

    /// <summary>The routes: the fallback and port-blocked relays, and the port-blocked state every send shares.</summary>
    public required DeliveryRouter Router { get; init; }

    /// <summary>
    /// Finds a relay host's addresses (an address literal is its own) through the mailer's DNS, never the system's
    /// resolver (<see cref="RelayHostResolver"/>). Tests replace it.
    /// </summary>
    public required Func<string, CancellationToken, System.Threading.Tasks.ValueTask<System.Net.IPAddress[]>> RelayAddresses { get; set; }

    /// <summary>
    /// Decides each domain's transport security (MTA-STS, DANE) before its MX hosts are tried; null, or one that
    /// <see cref="Security.TransportSecurityResolver.IsOff"/>, for opportunistic TLS everywhere (today's behaviour).
    /// </summary>
    public Security.TransportSecurityResolver? TransportSecurity { get; set; }

    /// <summary>Where every TLS handshake result (and every policy failure) is reported, per policy domain (TLS-RPT); null for nowhere.</summary>
    public Security.ITlsResultSink? TlsResults { get; set; }
}
