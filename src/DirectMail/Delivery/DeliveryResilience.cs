using System;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace DirectMail.Delivery;

/// <summary>What the delivery to one domain should do after a round over its MX addresses.</summary>
public enum DeliveryNextStep
{
    /// <summary>Every recipient of the domain has its outcome.</summary>
    Done,

    /// <summary>
    /// Some recipients are still pending and another MX address is left to try now. The delivery walks the addresses
    /// itself, so a pipeline sees this only when the deadline stopped a round between two addresses.
    /// </summary>
    TryNextAddress,

    /// <summary>Some recipients are still pending for a transient reason and every address was tried: try again after a delay.</summary>
    RetryLater,
}

/// <summary>
/// The result of one round of delivery to a domain (its MX addresses tried in order, each at once after the one
/// before): the value the resilience pipeline (<see cref="DeliveryResilience"/>) decides on.
/// </summary>
public sealed class DeliveryAttemptOutcome
{
    internal DeliveryAttemptOutcome(string domain, DeliveryNextStep nextStep, int pendingRecipients, string? mxHost, IPEndPoint? endPoint, SmtpFailure? failure)
    {
        Domain = domain;
        NextStep = nextStep;
        PendingRecipients = pendingRecipients;
        MxHost = mxHost;
        EndPoint = endPoint;
        Failure = failure;
    }

    /// <summary>The recipient domain.</summary>
    public string Domain { get; }

    /// <summary>What to do next.</summary>
    public DeliveryNextStep NextStep { get; }

    /// <summary>How many recipients of the domain have no outcome yet.</summary>
    public int PendingRecipients { get; }

    /// <summary>The MX host tried last in the round, when one was tried.</summary>
    public string? MxHost { get; }

    /// <summary>The address tried last in the round, when one was tried.</summary>
    public IPEndPoint? EndPoint { get; }

    /// <summary>Why the last address of the round did not finish the domain, when its session failed (connection, greeting, TLS, I/O).</summary>
    public SmtpFailure? Failure { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Domain} via {MxHost} [{EndPoint}]: {NextStep}, {PendingRecipients} pending{(Failure is null ? string.Empty : ", " + Failure)}";
}

/// <summary>
/// The resilience pipeline of a delivery: the retries of what stayed transient, as Polly strategies. One execution of
/// the pipeline is one round over the domain's MX addresses; the fallback from one address to the next is the delivery's
/// own loop, not a strategy, so a round ends <see cref="DeliveryNextStep.Done"/> or <see cref="DeliveryNextStep.RetryLater"/>.
/// The default, from <see cref="AddDefaultStrategies"/>, is a retry (exponential backoff with jitter,
/// <see cref="DirectMailOptions.MaxRetryAttempts"/> times, for <see cref="DeliveryNextStep.RetryLater"/>) that starts a
/// new round. Permanent failures give <see cref="DeliveryNextStep.Done"/> and are never retried. The overall deadline is
/// <see cref="DirectMailOptions.SendTimeout"/>, enforced by the mailer around the whole pipeline.
/// </summary>
public static class DeliveryResilience
{
    /// <summary>The name of the pipeline, as it appears in Polly's telemetry.</summary>
    public const string PipelineName = "DirectMail.Delivery";

    /// <summary>The retry strategy (a new round over the MX addresses after a delay).</summary>
    internal const string RetryStrategyName = "Retry";

    /// <summary>Adds the default strategies to <paramref name="builder"/>; a replacement pipeline can start from here and add more.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The mailer's options (retry count and delay).</param>
    /// <returns>The builder.</returns>
    public static ResiliencePipelineBuilder<DeliveryAttemptOutcome> AddDefaultStrategies(ResiliencePipelineBuilder<DeliveryAttemptOutcome> builder, DirectMailOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<DeliveryAttemptOutcome>
            {
                Name = RetryStrategyName,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { NextStep: DeliveryNextStep.RetryLater }),
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        return builder;
    }

    /// <summary>
    /// The severity of the default pipeline's Polly events. Polly rates a handled attempt and a retry as Warning, and a
    /// last handled attempt as Error; for mail they are routine: a round that ends transient is Debug, a new round after
    /// a delay is Information, and running out of rounds (the recipient is reported Deferred) is Information. Events of
    /// other pipelines, and events Polly rates below Warning, keep Polly's severity. (Trying the next MX host is no
    /// Polly event: the delivery logs it, event 4013, at Debug.)
    /// </summary>
    internal static ResilienceEventSeverity Severity(SeverityProviderArguments args)
    {
        var severity = args.Event.Severity;
        if (severity < ResilienceEventSeverity.Warning || args.Source.PipelineName != PipelineName)
        {
            return severity;
        }

        return args.Source.StrategyName switch
        {
            RetryStrategyName when args.Event.EventName == "OnRetry" || severity == ResilienceEventSeverity.Error => ResilienceEventSeverity.Information,
            RetryStrategyName => ResilienceEventSeverity.Debug,
            _ => severity,
        };
    }
}
