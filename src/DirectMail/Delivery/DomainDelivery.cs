using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Security;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using Polly;

namespace DirectMail.Delivery;

/// <summary>
/// Delivery to the recipients of one domain: resolve, then walk the MX addresses in resolver order until every
/// recipient has an outcome. These are the fallback rules (issue: RFC 5321 section 5.1, Postfix's behaviour):
/// <list type="bullet">
/// <item>Connection refused or timed out, no greeting, a 4xx or 5xx greeting, 4xx to EHLO, a failed TLS handshake,
/// a lost connection: the next address.</item>
/// <item>5xx to MAIL, to DATA or after the data: permanent for the recipients of that transaction.</item>
/// <item>RCPT 5xx: that recipient failed. RCPT 4xx: that recipient waits for the next address.</item>
/// <item>A local refusal (the message needs SMTPUTF8, 8BITMIME or a larger SIZE than this server offers; nothing was
/// sent): the next address, which may offer it (as Postfix 3.11 does, "try multiple servers before giving up"). The
/// recipient fails with that refusal only when every address tried in the round refused it locally; an address that
/// deferred it (4xx, no connection) leaves it Deferred.</item>
/// <item>The last address tried decides what is reported; a connection lost after the end of data is not retried
/// (the server may have taken the message, and nothing is sent twice).</item>
/// </list>
/// Concurrency (<see cref="DirectMailOptions.MaxConcurrentDomains"/>, the context's slots): the MX lookup and each connection
/// (connect, greeting, EHLO, STARTTLS) start under a slot, but one that takes longer than <see cref="SlowStepThreshold"/>
/// gives its slot back and finishes without one; a connected session takes a slot for its transactions and holds it until
/// it goes back to the pool. An MX that never answers thus holds a slot for at most that threshold and cannot keep a
/// responsive domain waiting, while the number of lookups and connections started at once stays bounded. Waiting between
/// retry rounds holds no slot.
/// The walk over the addresses is a plain loop (<see cref="RoundAsync"/>); the resilience pipeline only retries rounds.
/// One instance per domain per SendAsync; it is the state the pipeline's rounds share.
/// </summary>
internal sealed class DomainDelivery
{
    /// <summary>How long an MX lookup or a connection keeps its concurrency slot before it is taken for slow and gives it back.</summary>
    internal static readonly TimeSpan SlowStepThreshold = TimeSpan.FromSeconds(2);

    private static readonly ResiliencePropertyKey<DomainDelivery> StateKey = new("DirectMail.DomainDelivery");

    private readonly DeliveryContext _context;
    private readonly string _domain;
    private readonly SmtpEnvelope _envelope;
    private readonly SmtpContent _content;
    private readonly RecipientState[] _recipients;
    private readonly RelayTarget? _relay;
    private readonly IProgress<DeliveryProgress>? _progress;
    private readonly List<Candidate> _candidates = new();
    private DeliveryRoute _route;
    private int _next;
    private Candidate _renting;
    private SmtpEnvelope? _rentingEnvelope;
    private bool _roundFinished;

    /// <param name="context">The mailer's shared parts.</param>
    /// <param name="domain">The recipient domain.</param>
    /// <param name="envelope">The whole send's envelope: the sender, and each recipient's parameters by <see cref="RecipientState.Index"/>.</param>
    /// <param name="content">The message.</param>
    /// <param name="recipients">The domain's recipients.</param>
    /// <param name="relay">The relay the domain's route names, or null to deliver to its MX hosts (and relays only as a fallback).</param>
    /// <param name="route">Why <paramref name="relay"/> is taken (<see cref="DeliveryRoute.Relay"/>, <see cref="DeliveryRoute.PortBlockedRelay"/>); <see cref="DeliveryRoute.Direct"/> without one.</param>
    /// <param name="progress">Told when the domain is resolved (its recipients report themselves as they settle); null for none.</param>
    public DomainDelivery(DeliveryContext context, string domain, SmtpEnvelope envelope, SmtpContent content, RecipientState[] recipients, RelayTarget? relay = null, DeliveryRoute route = DeliveryRoute.Direct, IProgress<DeliveryProgress>? progress = null)
    {
        _progress = progress;
        _relay = relay;
        _route = route;
        _context = context;
        _domain = domain;
        _envelope = envelope;
        _content = content;
        _recipients = recipients;
    }

    /// <summary>Direct connection attempts made (not those to relays), and how many of them timed out while connecting (for the port 25 diagnosis).</summary>
    public int ConnectAttempts { get; private set; }

    public int ConnectTimeouts { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var activity = DirectMailTelemetry.ActivitySource.StartActivity("directmail.domain");
        activity?.SetTag("directmail.domain", _domain);
        activity?.SetTag("directmail.recipients", _recipients.Length);
        var logger = _context.Logger;
        DeliveryLog.DomainStarted(logger, _domain, _recipients.Length);
        if (_relay is not null)
        {
            // A relay route: its hosts take the mail; the recipient domain's MX hosts are not looked up.
            activity?.SetTag("directmail.relay", _relay.Name);
            await RelayAsync(_relay, _route, null, cancellationToken).ConfigureAwait(false);
            FinishPending();
            Finish(activity);
            return;
        }

        var (resolution, holdsSlot) = await UnderSlotAsync(static (d, ct) => d._context.Resolver.ResolveAsync(d._domain, ct), null, cancellationToken).ConfigureAwait(false);
        if (holdsSlot)
        {
            _context.SessionSlots.Release();
        }

        _progress?.Report(DeliveryProgress.Resolved(_domain, resolution));

        if (!resolution.IsSuccess)
        {
            DeliveryLog.ResolutionFailed(logger, _domain, resolution.Status, resolution.Message);
            if (resolution.IsTransient && _context.Router.Fallback is { } fallback)
            {
                // No reachable MX (the lookup failed for now): the fallback relay, as Postfix does.
                foreach (var r in _recipients)
                {
                    r.Pending(resolution.FailureReply, resolution.Message);
                }

                await RelayAsync(fallback, DeliveryRoute.FallbackRelay, null, cancellationToken).ConfigureAwait(false);
                FinishPending();
                Finish(activity);
                return;
            }

            foreach (var r in _recipients)
            {
                r.Finish(resolution.IsTransient ? DeliveryStatus.Deferred : DeliveryStatus.Failed, resolution.FailureReply, resolution.Message);
            }

            Finish(activity);
            return;
        }

        // The domain's transport security (MTA-STS, DANE), once per domain delivery, before any connection.
        // RFC 8689 section 5: a message marked "TLS-Required: No" goes as if no policy applied (unless REQUIRETLS is set).
        var security = TransportSecurityPolicy.None;
        if (_context.TransportSecurity is { IsOff: false } transportSecurity && (_envelope.RequireTls || !TlsRequiredNo))
        {
            var decision = await transportSecurity.DecideAsync(_domain, resolution, cancellationToken).ConfigureAwait(false);
            security = decision.Policy;
            if (decision.PolicyFailure is { } policyFailure)
            {
                // The policy could not be fetched (a cached one may still serve): reported once, by this delivery.
                _context.TlsResults?.Record(new TlsSessionResult(_domain, TlsPolicyType.Sts, string.Empty, null, policyFailure, decision.Detail));
            }
        }

        var refusedByPolicy = ChooseCandidates(resolution, _context, _domain, _candidates, security);
        if (_envelope.RequireTls && RequireTlsCandidates() is { } unmet)
        {
            // RFC 8689 section 4.1: no MX host is authenticated by DANE or MTA-STS; nothing is sent, and waiting will
            // not change that: failed at once, not retried.
            var reply = new SmtpReply(550, ["5.7.30 REQUIRETLS is set and no MX host of " + _domain + " is authenticated by DANE or MTA-STS (RFC 8689): " + unmet], isSynthetic: true);
            foreach (var r in _recipients)
            {
                r.Finish(DeliveryStatus.Failed, reply, unmet);
            }

            Finish(activity);
            return;
        }

        if (_candidates.Count == 0 && refusedByPolicy is not null)
        {
            // RFC 8461 section 5 and RFC 7672 section 2.2: no MX host may be used under the policy; nothing is sent.
            var reply = new SmtpReply(451, ["4.7.5 DirectMail did not deliver: " + refusedByPolicy.Detail], isSynthetic: true);
            foreach (var r in _recipients)
            {
                r.TlsFailed(refusedByPolicy.Failure);
                r.Finish(DeliveryStatus.Deferred, reply, refusedByPolicy.Detail);
            }

            Finish(activity);
            return;
        }

        if (_candidates.Count == 0)
        {
            var reply = new SmtpReply(550, ["5.4.4 DirectMail refused to connect: every MX address of " + _domain + " is loopback, private or otherwise not public (DirectMail:AllowPrivateTargets is off)"], isSynthetic: true);
            foreach (var r in _recipients)
            {
                r.Finish(DeliveryStatus.Failed, reply, "Every MX address is non-public; refusing to connect into a private network.");
            }

            Finish(activity);
            return;
        }

        // The pipeline retries rounds (what stayed transient after every address); the walk over the addresses is RoundAsync.
        await RoundsAsync(cancellationToken).ConfigureAwait(false);

        // What stays transient after every MX host and retry: a relay, when one is configured for it.
        if (CountPending(out var retryable) > 0 && retryable > 0)
        {
            if (ConnectAttempts > 0 && ConnectTimeouts == ConnectAttempts && _context.Router.PortBlocked is { } blocked)
            {
                await RelayAsync(blocked, DeliveryRoute.PortBlockedRelay, resolution, cancellationToken).ConfigureAwait(false);
            }
            else if (_context.Router.Fallback is { } fallback)
            {
                await RelayAsync(fallback, DeliveryRoute.FallbackRelay, resolution, cancellationToken).ConfigureAwait(false);
            }
        }

        FinishPending();
        Finish(activity);
    }

    /// <summary>What is still pending after every address and retry: deferred, with the last reply it got.</summary>
    private void FinishPending()
    {
        foreach (var r in _recipients)
        {
            if (r.IsPending)
            {
                r.Finish(DeliveryStatus.Deferred, r.Reply, r.Detail ?? (_route == DeliveryRoute.Direct ? "Every MX host was tried; try again later." : "Every relay host was tried; try again later."));
            }
        }
    }

    /// <summary>
    /// Rounds over a relay's hosts, in order, for the recipients still pending; the same fallback rules as for MX hosts.
    /// A fallback is skipped when the relay is one of the domain's own MX hosts (<paramref name="resolution"/>): that would
    /// loop the mail back to where it failed.
    /// </summary>
    private async Task RelayAsync(RelayTarget relay, DeliveryRoute route, MxResolution? resolution, CancellationToken cancellationToken)
    {
        _candidates.Clear();
        _next = 0;
        _roundFinished = false;
        _route = route;
        string? unresolved = null;
        foreach (var host in relay.Hosts)
        {
            System.Net.IPAddress[] addresses;
            try
            {
                addresses = await _context.RelayAddresses(host.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                unresolved = $"The relay host {host.Host} did not resolve: {e.Message}.";
                DeliveryLog.RelayHostUnresolved(_context.Logger, relay.Name, host.Host, e.Message);
                continue;
            }

            foreach (var address in addresses)
            {
                _candidates.Add(new Candidate(host.Host, new IPEndPoint(address, host.Port), Plaintext: false, relay));
            }
        }

        if (resolution is not null && IsMxOf(resolution))
        {
            DeliveryLog.RelayLoopAvoided(_context.Logger, relay.Name, _domain);
            return;
        }

        foreach (var r in _recipients)
        {
            if (r.IsPending)
            {
                r.NewRound();
                if (_candidates.Count == 0)
                {
                    r.Pending(r.Reply, unresolved);
                }
            }
        }

        if (_candidates.Count == 0)
        {
            return;
        }

        DeliveryLog.Relaying(_context.Logger, _domain, relay.Name, route);
        await RoundsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The pipeline's rounds over the candidates: it retries rounds (what stayed transient after every address); the walk over the addresses is RoundAsync.</summary>
    private async Task RoundsAsync(CancellationToken cancellationToken)
    {
        var resilience = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            resilience.Properties.Set(StateKey, this);
            await _context.Pipeline.ExecuteAsync(static (ctx, state) => state.RoundAsync(ctx.CancellationToken), resilience, this).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilience);
        }
    }

    /// <summary>True when a relay candidate is one of the domain's MX hosts, by name or by address (the loop guard).</summary>
    private bool IsMxOf(MxResolution resolution)
    {
        foreach (var candidate in _candidates)
        {
            foreach (var target in resolution.Targets)
            {
                if (string.Equals(target.Host.TrimEnd('.'), candidate.Host, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                foreach (var address in target.Addresses)
                {
                    if (address.Address.Equals(candidate.EndPoint.Address))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private void Finish(Activity? activity)
    {
        int delivered = 0, deferred = 0, failed = 0;
        foreach (var r in _recipients)
        {
            switch (r.Status)
            {
                case DeliveryStatus.Delivered:
                    delivered++;
                    break;
                case DeliveryStatus.Deferred:
                    deferred++;
                    break;
                default:
                    failed++;
                    break;
            }
        }

        activity?.SetTag("directmail.delivered", delivered);
        activity?.SetTag("directmail.deferred", deferred);
        activity?.SetTag("directmail.failed", failed);
        DeliveryLog.DomainFinished(_context.Logger, _domain, delivered, deferred, failed);
    }

    /// <summary>
    /// The addresses to try, in resolver order: hosts the transport-security policy forbids left out (an MX outside an
    /// enforced MTA-STS policy, a failed DANE lookup; each reported to the TLS-RPT sink), non-public addresses dropped
    /// (unless allowed), then at most <see cref="DirectMailOptions.MaxAddressesPerDomain"/> of those left, so that refused
    /// addresses never use up the budget.
    /// </summary>
    /// <returns>The last requirement that forbade a host, or null when none did.</returns>
    /// <summary>The message has <c>TLS-Required: No</c> (RFC 8689 section 5): MTA-STS and DANE are not applied to it.</summary>
    internal bool TlsRequiredNo { get; init; }

    internal static TlsRequirement? ChooseCandidates(MxResolution resolution, DeliveryContext context, string domain, List<Candidate> candidates, TransportSecurityPolicy? security = null)
    {
        security ??= TransportSecurityPolicy.None;
        TlsRequirement? refused = null;
        foreach (var target in resolution.Targets)
        {
            var requirement = security.For(target.Host);
            if (requirement.Kind == TlsRequirementKind.Unusable)
            {
                refused = requirement;
                TransportSecurityLog.HostRefusedByPolicy(context.Logger, target.Host, domain, requirement.Detail ?? string.Empty);
                context.TlsResults?.Record(new TlsSessionResult(domain, requirement.PolicyType, target.Host, null, requirement.Failure, requirement.Detail) { PolicyStrings = requirement.PolicyStrings, PolicyMxHosts = requirement.PolicyMxHosts });
                continue;
            }

            foreach (var address in target.Addresses)
            {
                if (!address.IsPublic && !context.AllowPrivateTargets)
                {
                    // An attacker who controls the recipient's DNS must not make us connect into our own network.
                    DeliveryLog.PrivateTargetRefused(context.Logger, address.Address.ToString(), domain, address.Scope);
                    continue;
                }

                if (candidates.Count == context.MaxAddressesPerDomain)
                {
                    return refused;
                }

                candidates.Add(new Candidate(target.Host, new IPEndPoint(address.Address, context.Port), Plaintext: false, Requirement: requirement));
            }
        }

        return refused;
    }

    /// <summary>
    /// REQUIRETLS: keeps only the MX hosts whose policy enforces a validated certificate (DANE usable, MTA-STS enforce);
    /// the session then checks that the certificate passed and that the host offers REQUIRETLS. Null when some remain;
    /// otherwise why none does.
    /// </summary>
    private string? RequireTlsCandidates()
    {
        _candidates.RemoveAll(static c => c.Requirement is not { EnforcesCertificate: true });
        return _candidates.Count > 0 ? null : "the domain publishes no DANE TLSA records and no MTA-STS policy in enforce mode that its MX hosts meet";
    }

    /// <summary>
    /// One round, one execution of the pipeline: the MX addresses in order, each at once after the one before, until
    /// every recipient has an outcome or no address is left. The outcome is <see cref="DeliveryNextStep.Done"/> or
    /// <see cref="DeliveryNextStep.RetryLater"/>; <see cref="DeliveryNextStep.TryNextAddress"/> only when the deadline
    /// stopped the round between two addresses.
    /// </summary>
    private async ValueTask<DeliveryAttemptOutcome> RoundAsync(CancellationToken cancellationToken)
    {
        if (_roundFinished)
        {
            // The pipeline's retry starts a new round over the addresses.
            _roundFinished = false;
            _next = 0;
            foreach (var r in _recipients)
            {
                r.NewRound();
            }
        }

        while (true)
        {
            var outcome = await AttemptAsync(cancellationToken).ConfigureAwait(false);
            if (outcome.NextStep != DeliveryNextStep.TryNextAddress || cancellationToken.IsCancellationRequested)
            {
                return outcome;
            }

            DeliveryLog.TryingNextAddress(_context.Logger, _domain, outcome.PendingRecipients, outcome.MxHost, outcome.EndPoint?.ToString());
        }
    }

    /// <summary>One attempt: the next MX address, every pending recipient, as many transactions as needed.</summary>
    private async ValueTask<DeliveryAttemptOutcome> AttemptAsync(CancellationToken cancellationToken)
    {
        var candidate = NextCandidate();
        if (candidate is null)
        {
            return EndOfRound(null, null);
        }

        var (host, endPoint, _, _, _) = candidate.Value;
        var started = Stopwatch.GetTimestamp();
        using var activity = DirectMailTelemetry.ActivitySource.StartActivity("directmail.attempt", ActivityKind.Client);
        activity?.SetTag("server.address", host);
        activity?.SetTag("server.port", endPoint.Port);
        activity?.SetTag("network.peer.address", endPoint.Address.ToString());
        activity?.SetTag("network.peer.port", endPoint.Port);
        string? errorType = null;
        try
        {
            var (outcome, failure) = await AttemptAtAsync(candidate.Value, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                errorType = DirectMailTelemetry.ErrorType(failure);
                activity?.SetStatus(ActivityStatusCode.Error, failure.Message);
            }

            return outcome;
        }
        catch (Exception e) when (activity is not null || DirectMailTelemetry.AttemptDuration.Enabled)
        {
            // Cancellation or a bug: error.type is the exception's type, as the conventions say.
            errorType = e is OperationCanceledException ? "canceled" : e.GetType().FullName;
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            if (errorType is not null)
            {
                activity?.SetTag("error.type", errorType);
            }

            if (DirectMailTelemetry.AttemptDuration.Enabled)
            {
                var tags = new TagList { { "server.address", host }, { "server.port", endPoint.Port } };
                if (errorType is not null)
                {
                    tags.Add("error.type", errorType);
                }

                DirectMailTelemetry.AttemptDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }

    /// <summary>The attempt at <paramref name="candidate"/>: its outcome for the round, and the failure that decided it (connection, sender, recipients, data, message), null when it delivered.</summary>
    private async ValueTask<(DeliveryAttemptOutcome Outcome, SmtpFailure? Failure)> AttemptAtAsync(Candidate candidate, CancellationToken cancellationToken)
    {
        var (host, endPoint, plaintext, relay, requirement) = candidate;
        var route = relay is null ? DeliveryRoute.Direct : _route;

        // The attempt counts, and names its host, from its start: a deadline that strikes while connecting or
        // waiting for a reply still reports which host was being tried.
        if (relay is null)
        {
            ConnectAttempts++;
        }

        foreach (var r in _recipients)
        {
            if (r.IsPending && r.IsRetryable)
            {
                r.Attempts++;
                r.At(host, endPoint.Address);
                r.Route = route;
            }
        }

        // The first transaction is known before renting: when every connection to the host is busy, a session
        // finishing its last message can send its envelope right behind that message's end (WaitingSend).
        var batch = new List<RecipientState>(Math.Min(_recipients.Length, _context.MaxRecipientsPerTransaction));
        var start = 0;
        var envelope = FillBatch(batch, ref start) ? BatchEnvelope(batch) : null;
        _renting = candidate;
        _rentingEnvelope = envelope;
        var (lease, slot) = await UnderSlotAsync(static (d, ct) => d.RentAsync(ct), host, cancellationToken).ConfigureAwait(false);
        ReportTls(lease, candidate);
        if (lease.Session is null)
        {
            if (slot)
            {
                _context.SessionSlots.Release();
            }

            var failure = lease.Connect!.Failure!;
            DeliveryLog.AttemptFailed(_context.Logger, host, endPoint.ToString(), failure.ToString());
            if (failure.Kind == SmtpFailureKind.TimedOut && failure.Phase == SmtpPhase.Connect && relay is null)
            {
                ConnectTimeouts++;
            }

            if (failure.Reply is { Code: 421 })
            {
                Backoff(host, endPoint);
            }

            if (failure.Kind == SmtpFailureKind.TlsHandshakeFailed && !plaintext && relay is null && _context.TlsMode == SmtpTlsMode.Opportunistic && requirement?.RequiresTls != true)
            {
                // As MTAs do with opportunistic TLS: the same address again, in plaintext, before moving on.
                // Once: a retry round finds the plaintext candidate already in the list, right after this one.
                var fallback = candidate with { Plaintext = true };
                if (!_candidates.Contains(fallback))
                {
                    DeliveryLog.TlsFallbackToPlaintext(_context.Logger, host, endPoint.ToString());
                    _candidates.Insert(_next, fallback);
                }
            }

            RecordConnectionFailure(failure, lease.Tls.Failure);
            return (Next(host, endPoint, failure), failure);
        }

        var session = lease.Session;
        SmtpFailure? sessionFailure = null;
        SmtpFailure? firstFailure = null;
        try
        {
            if (!slot)
            {
                // A slow connection gave its slot back; its transactions take one again (see the class summary).
                await _context.SessionSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
                slot = true;
            }

            while (envelope is not null && session.IsUsable)
            {
                // After this host's last transaction of this send, the session may take a send waiting for the host.
                var last = !HasMoreBatches(start);
                var result = await session.SendAsync(envelope, _content, last ? lease.Pool : null, cancellationToken).ConfigureAwait(false);
                if (lease.FromPool && IsStale(result))
                {
                    // The pooled connection was closed by the server while idle: that is not this address failing.
                    // The new connection is opened as any other: under a slot while it is not slow.
                    _context.SessionSlots.Release();
                    slot = false;
                    await _context.Pool.ReturnAsync(lease).ConfigureAwait(false);
                    lease = default;
                    _rentingEnvelope = envelope;
                    (lease, slot) = await UnderSlotAsync(static (d, ct) => d.RentAsync(ct), host, cancellationToken).ConfigureAwait(false);
                    ReportTls(lease, candidate);
                    if (lease.Session is null)
                    {
                        sessionFailure = lease.Connect!.Failure!;
                        RecordConnectionFailure(sessionFailure, lease.Tls.Failure);
                        return (Next(host, endPoint, sessionFailure), firstFailure ?? sessionFailure);
                    }

                    session = lease.Session;
                    if (!slot)
                    {
                        await _context.SessionSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
                        slot = true;
                    }

                    result = await session.SendAsync(envelope, _content, last ? lease.Pool : null, cancellationToken).ConfigureAwait(false);
                }

                Apply(result, batch, host, endPoint, session);
                sessionFailure ??= result.Outcome == SmtpTransactionOutcome.Failed ? result.Failure : null;
                firstFailure ??= result.IsDelivered ? null : result.Failure;
                if (result.Failure?.Reply is { Code: 421 })
                {
                    Backoff(host, endPoint);
                }

                envelope = FillBatch(batch, ref start) ? BatchEnvelope(batch) : null;
            }
        }
        finally
        {
            if (slot)
            {
                _context.SessionSlots.Release();
            }

            await _context.Pool.ReturnAsync(lease).ConfigureAwait(false);
        }

        return (Next(host, endPoint, sessionFailure), firstFailure);
    }

    private ValueTask<SmtpConnectionPool.Lease> RentAsync(CancellationToken cancellationToken) =>
        _context.Pool.RentAsync(_renting.EndPoint, _renting.Host, _renting.Plaintext, _renting.Relay?.SessionOptions, _renting.Requirement, cancellationToken, _rentingEnvelope, _content);

    /// <summary>The batch's envelope: the send's own, cut to these recipients (sender, DSN parameters), parsed once.</summary>
    private SmtpEnvelope BatchEnvelope(List<RecipientState> batch)
    {
        var indexes = new int[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            indexes[i] = batch[i].Index;
        }

        return _envelope.Subset(indexes);
    }

    /// <summary>True when recipients from <paramref name="start"/> on would make another batch.</summary>
    private bool HasMoreBatches(int start)
    {
        for (var i = start; i < _recipients.Length; i++)
        {
            if (_recipients[i].IsPending && _recipients[i].IsRetryable)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reports a new session's TLS result (success or failure, as TLS-RPT counts them) to the sink; a relay's is not a recipient domain's.</summary>
    private void ReportTls(in SmtpConnectionPool.Lease lease, Candidate candidate)
    {
        if (_context.TlsResults is not { } sink || !lease.Tls.Attempted || candidate.Relay is not null)
        {
            return;
        }

        var requirement = candidate.Requirement ?? TlsRequirement.Opportunistic;

        // A failure known before connecting (an MX outside a testing policy) is reported with the session it went on with.
        var failure = lease.Tls.Failure ?? requirement.Failure;
        var detail = lease.Tls.Failure is null ? requirement.Detail : lease.Tls.Detail;
        sink.Record(new TlsSessionResult(_domain, requirement.PolicyType, candidate.Host, candidate.EndPoint.Address, failure, detail)
        {
            SendingAddress = lease.LocalAddress,
            ReceivingHelo = lease.ServerHelo,
            PolicyStrings = requirement.PolicyStrings,
            PolicyMxHosts = requirement.PolicyMxHosts,
        });
    }

    /// <summary>
    /// Starts <paramref name="step"/> under one of the shared slots and gives the slot back if the step is still running
    /// after <see cref="SlowStepThreshold"/> (a tarpit, a blackholed address, a name server that does not answer).
    /// </summary>
    /// <returns>The step's result, and whether the slot is still held (the caller then releases it).</returns>
    private async ValueTask<(T Result, bool HoldsSlot)> UnderSlotAsync<T>(Func<DomainDelivery, CancellationToken, ValueTask<T>> step, string? host, CancellationToken cancellationToken)
    {
        var slots = _context.SessionSlots;
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var holds = true;
        try
        {
            var pending = step(this, cancellationToken);
            if (!pending.IsCompleted)
            {
                var task = pending.AsTask();
                using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    var slow = Task.Delay(SlowStepThreshold, _context.Time, stop.Token);
                    if (await Task.WhenAny(task, slow).ConfigureAwait(false) != task)
                    {
                        holds = false;
                        slots.Release();
                        if (host is null)
                        {
                            DeliveryLog.SlowLookup(_context.Logger, _domain, SlowStepThreshold);
                        }
                        else
                        {
                            DeliveryLog.SlowConnect(_context.Logger, host, _domain, SlowStepThreshold);
                        }
                    }

                    stop.Cancel();
                }

                pending = new ValueTask<T>(task);
            }

            return (await pending.ConfigureAwait(false), holds);
        }
        catch
        {
            if (holds)
            {
                slots.Release();
            }

            throw;
        }
    }

    /// <summary>
    /// True for a refusal made by this client before sending (a synthetic reply: SMTPUTF8, 8BITMIME or SIZE not offered
    /// by this server), as opposed to the server's own 5xx or content that no server can take.
    /// </summary>
    private static bool IsLocalRefusal(SmtpTransactionResult result, SmtpReply reply) =>
        reply.IsSynthetic && result.Failure?.Kind is not (SmtpFailureKind.InvalidContent or SmtpFailureKind.ContentSourceFailed);

    private static bool IsStale(SmtpTransactionResult result) =>
        result is { Outcome: SmtpTransactionOutcome.Failed, MailFromReply: null, Failure.Kind: SmtpFailureKind.ConnectionLost or SmtpFailureKind.ProtocolViolation };

    /// <summary>Puts the next pending, retryable recipients (at most one transaction's worth) into <paramref name="batch"/>.</summary>
    private bool FillBatch(List<RecipientState> batch, ref int start)
    {
        batch.Clear();
        var max = _context.MaxRecipientsPerTransaction;
        while (start < _recipients.Length && batch.Count < max)
        {
            var r = _recipients[start++];
            if (r.IsPending && r.IsRetryable)
            {
                batch.Add(r);
            }
        }

        return batch.Count > 0;
    }

    /// <summary>Reads a transaction's outcome into each recipient's state: final, or pending for the next address.</summary>
    private void Apply(SmtpTransactionResult result, List<RecipientState> batch, string host, IPEndPoint endPoint, SmtpSession session)
    {
        var observed = session.Tls.Failure ?? (session.Requirement.Kind == TlsRequirementKind.Opportunistic ? session.Requirement.Failure : null);
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            var rr = result.Recipients[i];
            r.At(host, endPoint.Address);
            r.Secured(session.Posture, observed);
            if (rr.IsDelivered)
            {
                r.NextHopOfferedDsn = result.DsnOffered;
                r.Finish(DeliveryStatus.Delivered, rr.Reply, null);
                continue;
            }

            var reply = rr.Reply;
            if (reply is null || reply.IsPositiveCompletion)
            {
                // No reply decided for this recipient: the session failed (I/O, timeout, protocol).
                var failure = result.Failure;
                if (failure is { Phase: SmtpPhase.DataTermination } && rr.IsAccepted)
                {
                    // RFC 1047: the end of data was sent and the reply lost. The server may have the message; another
                    // attempt could deliver it twice. Report it, do not retry it.
                    r.Finish(DeliveryStatus.Deferred, null, $"No reply came from {host} after the end of the message was sent ({failure.Kind}): it may have been delivered. Not retried, so that it is not delivered twice.");
                    r.IsRetryable = false;
                    r.MayHaveBeenDelivered = true;
                }
                else
                {
                    r.Pending(null, failure?.Message);
                }

                continue;
            }

            if (_renting.Relay is not null && RelayDiagnosis.Hint(reply) is { } relayHint)
            {
                r.Hinted(relayHint);
            }

            if (ReplyDiagnosis.IsPolicyRejection(reply, out var hint))
            {
                r.Policy(hint);
                DeliveryLog.PolicyRejection(_context.Logger, r.Address, host, reply.ToString(), hint);
            }

            if (reply.IsPermanentNegative && IsLocalRefusal(result, reply))
            {
                // Nothing was sent for this recipient: another MX may offer what this one lacks.
                r.RefusedLocally(reply, result.Failure?.Kind == SmtpFailureKind.NotSupportedByServer ? result.Failure.Message : null);
                DeliveryLog.RefusedLocally(_context.Logger, r.Address, host, reply.ToString());
            }
            else if (reply.IsPermanentNegative)
            {
                r.Finish(DeliveryStatus.Failed, reply, result.Failure?.Kind is SmtpFailureKind.InvalidContent or SmtpFailureKind.NotSupportedByServer ? result.Failure.Message : null);
            }
            else if (r.IsPolicyRejection)
            {
                // Gmail's 421-4.7.0 and its kind: transient in form, but it will not pass on retry.
                r.Finish(DeliveryStatus.Deferred, reply, "Refused by the receiver's sender policy; retrying will not help until it is fixed.");
            }
            else
            {
                r.Pending(reply, null);
            }
        }
    }

    private void RecordConnectionFailure(SmtpFailure failure, TlsFailureType? tlsFailure)
    {
        var relayHint = _renting.Relay is not null ? RelayDiagnosis.Hint(failure) : null;
        foreach (var r in _recipients)
        {
            if (r.IsPending && r.IsRetryable)
            {
                r.Secured(null, tlsFailure);
                r.Pending(failure.Reply, failure.Message);
                if (relayHint is not null)
                {
                    r.Hinted(relayHint);
                }

                if (failure.Kind == SmtpFailureKind.TimedOut && failure.Phase == SmtpPhase.Connect)
                {
                    r.ConnectTimedOut = true;
                }
            }
        }
    }

    private void Backoff(string host, IPEndPoint endPoint)
    {
        var until = _context.Backoff.Mark(endPoint);
        DeliveryLog.HostBackoff(_context.Logger, host, endPoint.ToString(), until);
    }

    private Candidate? NextCandidate()
    {
        while (_next < _candidates.Count)
        {
            var candidate = _candidates[_next++];
            if (!_context.Backoff.IsBackingOff(candidate.EndPoint))
            {
                return candidate;
            }

            foreach (var r in _recipients)
            {
                if (r.IsPending && r.Reply is null && r.Detail is null)
                {
                    r.At(candidate.Host, candidate.EndPoint.Address);
                    r.Pending(null, $"{candidate.Host} [{candidate.EndPoint.Address}] answered 421 recently and is left alone for a while.");
                }
            }
        }

        return null;
    }

    private DeliveryAttemptOutcome Next(string? host, IPEndPoint? endPoint, SmtpFailure? failure)
    {
        var pending = CountPending(out var retryable);
        if (retryable == 0)
        {
            return new DeliveryAttemptOutcome(_domain, DeliveryNextStep.Done, pending, host, endPoint, failure);
        }

        // Is another address left that is not backing off?
        for (var i = _next; i < _candidates.Count; i++)
        {
            if (!_context.Backoff.IsBackingOff(_candidates[i].EndPoint))
            {
                return new DeliveryAttemptOutcome(_domain, DeliveryNextStep.TryNextAddress, pending, host, endPoint, failure);
            }
        }

        return EndOfRound(host, endPoint, failure);
    }

    private DeliveryAttemptOutcome EndOfRound(string? host, IPEndPoint? endPoint, SmtpFailure? failure = null)
    {
        _roundFinished = true;
        foreach (var r in _recipients)
        {
            // Every address of the round refused it locally (none deferred it): that is final.
            if (r.IsPending && r.IsRetryable && r.LocalRefusal is { } refusal && !r.DeferredThisRound)
            {
                r.Finish(DeliveryStatus.Failed, refusal, r.LocalRefusalDetail);
            }
        }

        var pending = CountPending(out var retryable);
        return new DeliveryAttemptOutcome(_domain, retryable > 0 ? DeliveryNextStep.RetryLater : DeliveryNextStep.Done, pending, host, endPoint, failure);
    }

    private int CountPending(out int retryable)
    {
        var pending = 0;
        retryable = 0;
        foreach (var r in _recipients)
        {
            if (r.IsPending)
            {
                pending++;
                retryable += r.IsRetryable ? 1 : 0;
            }
        }

        return pending;
    }

    /// <summary>An address to try: an MX's (<see cref="Relay"/> null) or a relay host's, and what its domain's transport-security policy demands of it (null: opportunistic).</summary>
    internal readonly record struct Candidate(string Host, IPEndPoint EndPoint, bool Plaintext, RelayTarget? Relay = null, TlsRequirement? Requirement = null);
}

/// <summary>One recipient's state while its domain is delivered; becomes a <see cref="RecipientDelivery"/>.</summary>
internal sealed class RecipientState(string address, int index, long startTimestamp)
{
    private IProgress<DeliveryProgress>? _progress;
    private string? _domain;

    public string Address { get; } = address;

    /// <summary>The recipient's index in the send's envelope.</summary>
    public int Index { get; } = index;

    public DeliveryStatus Status { get; private set; } = DeliveryStatus.Deferred;

    public bool IsPending { get; private set; } = true;

    public bool IsRetryable { get; set; } = true;

    public SmtpReply? Reply { get; private set; }

    public string? Detail { get; private set; }

    public string? MxHost { get; private set; }

    public IPAddress? ServerAddress { get; private set; }

    public int Attempts { get; set; }

    public bool IsPolicyRejection { get; private set; }

    public string? Hint { get; private set; }

    public bool ConnectTimedOut { get; set; }

    public bool MayHaveBeenDelivered { get; set; }

    /// <summary>Whether the server that took it offered DSN (for the queue's "relayed" notice).</summary>
    public bool NextHopOfferedDsn { get; set; }

    /// <summary>The way of the last attempt.</summary>
    public DeliveryRoute Route { get; set; }

    public long FinishedTimestamp { get; private set; }

    /// <summary>The last local refusal (SMTPUTF8, 8BITMIME, SIZE not offered), while other addresses may still take it.</summary>
    public SmtpReply? LocalRefusal { get; private set; }

    public string? LocalRefusalDetail { get; private set; }

    /// <summary>True when an address of the current round deferred this recipient (4xx, no connection): a local refusal elsewhere is then not final.</summary>
    public bool DeferredThisRound { get; private set; }

    private string? _deferredHost;
    private IPAddress? _deferredAddress;

    public void At(string host, IPAddress address)
    {
        MxHost = host;
        ServerAddress = address;
    }

    public void Pending(SmtpReply? reply, string? detail)
    {
        // The last host tried decides what is reported.
        Reply = reply;
        Detail = detail;
        DeferredThisRound = true;
        _deferredHost = MxHost;
        _deferredAddress = ServerAddress;
    }

    /// <summary>This address cannot take the recipient; a deferral from another address of the round stays what is reported.</summary>
    public void RefusedLocally(SmtpReply reply, string? detail)
    {
        LocalRefusal = reply;
        LocalRefusalDetail = detail;
        if (DeferredThisRound)
        {
            MxHost = _deferredHost;
            ServerAddress = _deferredAddress;
            return;
        }

        Reply = reply;
        Detail = detail;
    }

    public void NewRound() => DeferredThisRound = false;

    public void Policy(string hint)
    {
        IsPolicyRejection = true;
        Hint = hint;
    }

    public void Finish(DeliveryStatus status, SmtpReply? reply, string? detail)
    {
        if (!IsPending)
        {
            return;
        }

        Status = status;
        Reply = reply;
        Detail = detail;
        IsPending = false;
        FinishedTimestamp = Stopwatch.GetTimestamp();
        _progress?.Report(DeliveryProgress.Settled(_domain!, ToDelivery(TimeSpan.Zero)));
    }

    /// <summary>Reports this recipient to <paramref name="progress"/> when its outcome is final (<see cref="Finish"/>, once).</summary>
    public void Observe(IProgress<DeliveryProgress> progress, string domain)
    {
        _progress = progress;
        _domain = domain;
    }

    public void Hinted(string hint) => Hint ??= hint;

    /// <summary>How the last attempt's session was protected (null: none was established), and the TLS failure it met, if any.</summary>
    public TlsPosture? Tls { get; private set; }

    public TlsFailureType? TlsFailure { get; private set; }

    public void Secured(TlsPosture? posture, TlsFailureType? failure)
    {
        Tls = posture;
        TlsFailure = failure;
    }

    /// <summary>No session: a policy forbade every host.</summary>
    public void TlsFailed(TlsFailureType? failure) => Secured(null, failure);

    public RecipientDelivery ToDelivery(TimeSpan fallbackDuration) => new(
        Address,
        Status,
        Reply,
        MxHost,
        ServerAddress,
        Attempts,
        FinishedTimestamp == 0 ? fallbackDuration : Stopwatch.GetElapsedTime(startTimestamp, FinishedTimestamp),
        IsPolicyRejection,
        Hint,
        Detail,
        MayHaveBeenDelivered,
        Route)
    {
        Tls = Tls,
        TlsFailure = TlsFailure,
        NextHopOfferedDsn = NextHopOfferedDsn,
    };
}
