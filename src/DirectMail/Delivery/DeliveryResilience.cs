using System;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace DirectMail.Delivery;

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
