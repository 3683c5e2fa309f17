using System;
using System.Collections.Generic;
using DirectMail.Delivery;
using DirectMail.Dns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DirectMail in a service collection.</summary>
public static class DirectMailServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IDirectMailer"/> as a thread-safe singleton with its options bound from the configuration
    /// section <c>DirectMail</c> (when an <see cref="IConfiguration"/> is registered), then <paramref name="configure"/>,
    /// validated at startup. <see cref="IMxResolver"/>, <see cref="TimeProvider"/> and a
    /// <see cref="ResiliencePipeline{T}"/> of <see cref="DeliveryAttemptOutcome"/> registered by the application replace the defaults.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, after the configuration section.</param>
    /// <returns>A builder for further settings.</returns>
    public static IDirectMailBuilder AddDirectMail(this IServiceCollection services, Action<DirectMailOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<DirectMailOptions>, ConfigurationSectionBinder>());
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DirectMailOptions>, OptionsValidator>());
        services.AddOptions<DirectMailOptions>().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ResilienceSetup>();
        services.TryAddSingleton<IMxResolver>(static sp => new MxResolver(
            sp.GetRequiredService<IOptions<DirectMailOptions>>().Value.ToResolverOptions(),
            sp.GetService<ILogger<MxResolver>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<DirectMailOptions>>().Value;
            var loggerFactory = sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            var time = sp.GetRequiredService<TimeProvider>();
            var pipeline = sp.GetService<ResiliencePipeline<DeliveryAttemptOutcome>>()
                ?? sp.GetRequiredService<ResilienceSetup>().Build(options, loggerFactory, time);
            return new DirectMailer(options, sp.GetRequiredService<IMxResolver>(), loggerFactory, time, pipeline);
        });
        services.TryAddSingleton<IDirectMailer>(static sp => sp.GetRequiredService<DirectMailer>());
        return new Builder(services);
    }

    private sealed class Builder(IServiceCollection services) : IDirectMailBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IDirectMailBuilder ConfigureResilience(Action<ResiliencePipelineBuilder<DeliveryAttemptOutcome>, DirectMailOptions> configure)
        {
            ArgumentNullException.ThrowIfNull(configure);
            Services.AddSingleton(new ResilienceCallback(configure));
            return this;
        }
    }

    private sealed record ResilienceCallback(Action<ResiliencePipelineBuilder<DeliveryAttemptOutcome>, DirectMailOptions> Configure);

    private sealed class ResilienceSetup(IEnumerable<ResilienceCallback> callbacks)
    {
        public ResiliencePipeline<DeliveryAttemptOutcome> Build(DirectMailOptions options, ILoggerFactory loggerFactory, TimeProvider time)
        {
            var any = false;
            var builder = new ResiliencePipelineBuilder<DeliveryAttemptOutcome> { Name = DeliveryResilience.PipelineName, TimeProvider = time };
            builder.ConfigureTelemetry(new Polly.Telemetry.TelemetryOptions { LoggerFactory = loggerFactory, SeverityProvider = DeliveryResilience.Severity });
            foreach (var callback in callbacks)
            {
                callback.Configure(builder, options);
                any = true;
            }

            return any ? builder.Build() : DirectMailer.CreateDefaultPipeline(options, loggerFactory, time);
        }
    }

    /// <summary>
    /// Binds the <c>DirectMail</c> section, <c>DirectMail:Timeouts</c> included, when the application has a configuration.
    /// Not <c>BindConfiguration</c>, which requires an <see cref="IConfiguration"/> service: <c>AddDirectMail</c> also
    /// serves a plain service collection configured in code. The binding is generated code (EnableConfigurationBindingGenerator).
    /// </summary>
    private sealed class ConfigurationSectionBinder(IServiceProvider services) : IConfigureOptions<DirectMailOptions>
    {
        public void Configure(DirectMailOptions options)
        {
            if (services.GetService(typeof(IConfiguration)) is IConfiguration configuration)
            {
                configuration.GetSection(DirectMailOptions.SectionName).Bind(options);
            }
        }
    }

    /// <summary>
    /// Runs the rules of <see cref="DirectMailOptions.Validate"/> when the options are first used, or at host start, and
    /// reports every failure, not only the first.
    /// </summary>
    private sealed class OptionsValidator : IValidateOptions<DirectMailOptions>
    {
        public ValidateOptionsResult Validate(string? name, DirectMailOptions options)
        {
            var errors = options.Check();
            return errors.HasErrors ? ValidateOptionsResult.Fail(errors.Messages) : ValidateOptionsResult.Success;
        }
    }
}
