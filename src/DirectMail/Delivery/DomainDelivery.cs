using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Dns;
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
/// <item>The last address tried decides what is reported; a connection lost after the end of data is not retried
/// (the server may have taken the message, and nothing is sent twice).</item>
/// </list>
/// One instance per domain per SendAsync; it is the state the resilience pipeline's attempts share.
/// </summary>
internal sealed class DomainDelivery
{
    private static readonly ResiliencePropertyKey<DomainDelivery> StateKey = new("DirectMail.DomainDelivery");

    private readonly DirectMailer _mailer;
    private readonly string _domain;
    private readonly string _sender;
    private readonly SmtpContent _content;
    private readonly RecipientState[] _recipients;
    private readonly List<Candidate> _candidates = new();
    private int _next;
    private bool _roundFinished;

    public DomainDelivery(DirectMailer mailer, string domain, string sender, SmtpContent content, RecipientState[] recipients)
    {
        _mailer = mailer;
        _domain = domain;
        _sender = sender;
        _content = content;
        _recipients = recipients;
    }

    /// <summary>Connection attempts made, and how many of them timed out while connecting (for the port 25 diagnosis).</summary>
    public int ConnectAttempts { get; private set; }

    public int ConnectTimeouts { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var activity = DirectMailTelemetry.ActivitySource.StartActivity("directmail.domain");
        activity?.SetTag("directmail.domain", _domain);
        activity?.SetTag("directmail.recipients", _recipients.Length);
        var logger = _mailer.Logger;
        DeliveryLog.DomainStarted(logger, _domain, _recipients.Length);

        var resolution = await _mailer.Resolver.ResolveAsync(_domain, cancellationToken).ConfigureAwait(false);
        if (!resolution.IsSuccess)
        {
            DeliveryLog.ResolutionFailed(logger, _domain, resolution.Status, resolution.Message);
            foreach (var r in _recipients)
            {
                r.Finish(resolution.IsTransient ? DeliveryStatus.Deferred : DeliveryStatus.Failed, resolution.FailureReply, resolution.Message);
            }

            Finish(activity);
            return;
        }

        ChooseCandidates(resolution);
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

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(StateKey, this);
            await _mailer.Pipeline.ExecuteAsync(static (ctx, state) => state.AttemptAsync(ctx.CancellationToken), context, this).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        // What is still pending after every address and retry: deferred, with the last reply it got.
        foreach (var r in _recipients)
        {
            if (r.IsPending)
            {
                r.Finish(DeliveryStatus.Deferred, r.Reply, r.Detail ?? "Every MX host was tried; try again later.");
            }
        }

        Finish(activity);
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
        DeliveryLog.DomainFinished(_mailer.Logger, _domain, delivered, deferred, failed);
    }

    private void ChooseCandidates(MxResolution resolution)
    {
        var options = _mailer.Options;
        foreach (var target in resolution.Targets)
        {
            foreach (var address in target.Addresses)
            {
                if (!address.IsPublic && !options.AllowPrivateTargets)
                {
                    // An attacker who controls the recipient's DNS must not make us connect into our own network.
                    DeliveryLog.PrivateTargetRefused(_mailer.Logger, address.Address.ToString(), _domain, address.Scope);
                    continue;
                }

                if (_candidates.Count < options.MaxAddressesPerDomain)
                {
                    _candidates.Add(new Candidate(target.Host, new IPEndPoint(address.Address, options.Port), Plaintext: false));
                }
            }
        }
    }

    /// <summary>One attempt: the next MX address, every pending recipient, as many transactions as needed.</summary>
    private async ValueTask<DeliveryAttemptOutcome> AttemptAsync(CancellationToken cancellationToken)
    {
        if (_roundFinished)
        {
            // The retry strategy starts a new round over the addresses.
            _roundFinished = false;
            _next = 0;
        }

        var candidate = NextCandidate();
        if (candidate is null)
        {
            return EndOfRound(null, null);
        }

        var (host, endPoint, plaintext) = candidate.Value;
        using var activity = DirectMailTelemetry.ActivitySource.StartActivity("directmail.attempt");
        activity?.SetTag("server.address", host);
        activity?.SetTag("network.peer.address", endPoint.Address.ToString());
        activity?.SetTag("network.peer.port", endPoint.Port);

        // The attempt counts, and names its host, from its start: a deadline that strikes while connecting or
        // waiting for a reply still reports which host was being tried.
        ConnectAttempts++;
        foreach (var r in _recipients)
        {
            if (r.IsPending && r.IsRetryable)
            {
                r.Attempts++;
                r.At(host, endPoint.Address);
            }
        }

        var lease = await _mailer.Pool.RentAsync(endPoint, host, plaintext, cancellationToken).ConfigureAwait(false);
        if (lease.Session is null)
        {
            var failure = lease.Connect!.Failure!;
            activity?.SetTag("directmail.result", failure.Kind.ToString());
            DirectMailTelemetry.Attempts.Add(1, new KeyValuePair<string, object?>("directmail.result", "connect_failed"));
            DeliveryLog.AttemptFailed(_mailer.Logger, host, endPoint.ToString(), failure.ToString());
            if (failure.Kind == SmtpFailureKind.TimedOut && failure.Phase == SmtpPhase.Connect)
            {
                ConnectTimeouts++;
            }

            if (failure.Reply is { Code: 421 })
            {
                Backoff(host, endPoint);
            }

            if (failure.Kind == SmtpFailureKind.TlsHandshakeFailed && !plaintext && _mailer.Options.TlsMode == SmtpTlsMode.Opportunistic)
            {
                // As MTAs do with opportunistic TLS: the same address again, in plaintext, before moving on.
                DeliveryLog.TlsFallbackToPlaintext(_mailer.Logger, host, endPoint.ToString());
                _candidates.Insert(_next, candidate.Value with { Plaintext = true });
            }

            RecordConnectionFailure(failure);
            return Next(host, endPoint, failure);
        }

        DirectMailTelemetry.Attempts.Add(1, new KeyValuePair<string, object?>("directmail.result", "connected"));
        var session = lease.Session;
        SmtpFailure? sessionFailure = null;
        try
        {
            var batch = new List<RecipientState>(Math.Min(_recipients.Length, _mailer.Options.MaxRecipientsPerTransaction));
            var start = 0;
            while (session.IsUsable && FillBatch(batch, ref start))
            {
                var addresses = new string[batch.Count];
                for (var i = 0; i < batch.Count; i++)
                {
                    addresses[i] = batch[i].Address;
                }

                var result = await session.SendAsync(new SmtpEnvelope(_sender, addresses), _content, cancellationToken).ConfigureAwait(false);
                if (lease.FromPool && IsStale(result))
                {
                    // The pooled connection was closed by the server while idle: that is not this address failing.
                    await _mailer.Pool.ReturnAsync(lease).ConfigureAwait(false);
                    lease = default;
                    lease = await _mailer.Pool.RentAsync(endPoint, host, plaintext, cancellationToken).ConfigureAwait(false);
                    if (lease.Session is null)
                    {
                        sessionFailure = lease.Connect!.Failure!;
                        RecordConnectionFailure(sessionFailure);
                        return Next(host, endPoint, sessionFailure);
                    }

                    session = lease.Session;
                    result = await session.SendAsync(new SmtpEnvelope(_sender, addresses), _content, cancellationToken).ConfigureAwait(false);
                }

                Apply(result, batch, host, endPoint);
                sessionFailure ??= result.Outcome == SmtpTransactionOutcome.Failed ? result.Failure : null;
                if (result.Failure?.Reply is { Code: 421 })
                {
                    Backoff(host, endPoint);
                }
            }
        }
        finally
        {
            await _mailer.Pool.ReturnAsync(lease).ConfigureAwait(false);
        }

        activity?.SetTag("directmail.result", sessionFailure?.Kind.ToString() ?? "Completed");
        return Next(host, endPoint, sessionFailure);
    }

    private static bool IsStale(SmtpTransactionResult result) =>
        result is { Outcome: SmtpTransactionOutcome.Failed, MailFromReply: null, Failure.Kind: SmtpFailureKind.ConnectionLost or SmtpFailureKind.ProtocolViolation };

    /// <summary>Puts the next pending, retryable recipients (at most one transaction's worth) into <paramref name="batch"/>.</summary>
    private bool FillBatch(List<RecipientState> batch, ref int start)
    {
        batch.Clear();
        var max = _mailer.Options.MaxRecipientsPerTransaction;
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
    private void Apply(SmtpTransactionResult result, List<RecipientState> batch, string host, IPEndPoint endPoint)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            var rr = result.Recipients[i];
            r.At(host, endPoint.Address);
            if (rr.IsDelivered)
            {
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

            if (ReplyDiagnosis.IsPolicyRejection(reply, out var hint))
            {
                r.Policy(hint);
                DeliveryLog.PolicyRejection(_mailer.Logger, r.Address, host, reply.ToString(), hint);
            }

            if (reply.IsPermanentNegative)
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

    private void RecordConnectionFailure(SmtpFailure failure)
    {
        foreach (var r in _recipients)
        {
            if (r.IsPending && r.IsRetryable)
            {
                r.Pending(failure.Reply, failure.Message);
                if (failure.Kind == SmtpFailureKind.TimedOut && failure.Phase == SmtpPhase.Connect)
                {
                    r.ConnectTimedOut = true;
                }
            }
        }
    }

    private void Backoff(string host, IPEndPoint endPoint)
    {
        var until = _mailer.Backoff.Mark(endPoint);
        DeliveryLog.HostBackoff(_mailer.Logger, host, endPoint.ToString(), until);
    }

    private Candidate? NextCandidate()
    {
        while (_next < _candidates.Count)
        {
            var candidate = _candidates[_next++];
            if (!_mailer.Backoff.IsBackingOff(candidate.EndPoint))
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
            if (!_mailer.Backoff.IsBackingOff(_candidates[i].EndPoint))
            {
                return new DeliveryAttemptOutcome(_domain, DeliveryNextStep.TryNextAddress, pending, host, endPoint, failure);
            }
        }

        return EndOfRound(host, endPoint, failure);
    }

    private DeliveryAttemptOutcome EndOfRound(string? host, IPEndPoint? endPoint, SmtpFailure? failure = null)
    {
        _roundFinished = true;
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

    private readonly record struct Candidate(string Host, IPEndPoint EndPoint, bool Plaintext);
}

/// <summary>One recipient's state while its domain is delivered; becomes a <see cref="RecipientDelivery"/>.</summary>
internal sealed class RecipientState(string address, long startTimestamp)
{
    public string Address { get; } = address;

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

    public long FinishedTimestamp { get; private set; }

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
    }

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
    }

    public void Hinted(string hint) => Hint ??= hint;

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
        MayHaveBeenDelivered);
}
