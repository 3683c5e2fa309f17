using System;
using DirectMail.Delivery;
using DirectMail.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DirectMail's durable queue.</summary>
public static class DirectMailQueueServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IMailQueue"/> (a <see cref="MailQueue"/> over the store <paramref name="storeFactory"/> makes)
    /// and its <see cref="MailQueueWorker"/> as a hosted service, with <see cref="MailQueueOptions"/> bound from the
    /// configuration section <c>DirectMail:Queue</c>, then <paramref name="configure"/>, validated at startup. With
    /// <see cref="MailQueueOptions.HandOffDeferred"/> (default) the registered mailer hands what its SendAsync defers to
    /// the queue (<see cref="DirectMailer.OnDeferred"/>). The container disposes the store.
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="storeFactory">Makes the store, once (the SQLite store: <c>AddSqliteQueue</c> of DirectMail.Queue.Sqlite).</param>
    /// <param name="configure">Sets options in code, after the configuration section.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddQueue(this IDirectMailBuilder builder, Func<IServiceProvider, IMailQueueStore> storeFactory, Action<MailQueueOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(storeFactory);
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<MailQueueOptions>, ConfigurationSectionBinder>());
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MailQueueOptions>, OptionsValidator>());
        services.AddOptions<MailQueueOptions>().ValidateOnStart();
        services.TryAddSingleton(storeFactory);
        // The suppression list AddSuppressionList registers (in any order): consulted at enqueue too.
        services.TryAddSingleton(static sp => new MailQueue(
            sp.GetRequiredService<IMailQueueStore>(),
            sp.GetRequiredService<IOptions<MailQueueOptions>>().Value,
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>())
        {
            SuppressionStore = sp.GetService<DirectMail.Suppression.ISuppressionStore>(),
        });
        services.TryAddSingleton<IMailQueue>(static sp => sp.GetRequiredService<MailQueue>());
        services.TryAddSingleton(static sp => new MailQueueWorker(sp.GetRequiredService<MailQueue>(), sp.GetRequiredService<DirectMailer>(), sp.GetService<ILoggerFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MailQueueHostedService>());
        HandOffFromTheMailer(services);
        return builder;
    }

    /// <summary>
    /// Wraps the mailer's registration so that the mailer it makes hands its deferred recipients to the queue. The
    /// queue does not depend on the mailer (the worker does), so there is no cycle.
    /// </summary>
    private static void HandOffFromTheMailer(IServiceCollection services) =>
        MailerDecoration.Decorate(services, nameof(AddQueue), static (sp, mailer) =>
        {
            if (sp.GetRequiredService<IOptions<MailQueueOptions>>().Value.HandOffDeferred)
            {
                mailer.OnDeferred ??= sp.GetRequiredService<MailQueue>();
            }
        });

    /// <summary>Binds the <c>DirectMail:Queue</c> section when the application has a configuration.</summary>
    private sealed class ConfigurationSectionBinder(IServiceProvider services) : IConfigureOptions<MailQueueOptions>
    {
        public void Configure(MailQueueOptions options)
        {
            if (services.GetService(typeof(IConfiguration)) is IConfiguration configuration)
            {
                configuration.GetSection(MailQueueOptions.SectionName).Bind(options);
            }
        }
    }

    /// <summary>
    /// Runs the rules of <see cref="MailQueueOptions.Validate"/> when the options are first used, or at host start, and
    /// reports every failure, not only the first.
    /// </summary>
    private sealed class OptionsValidator : IValidateOptions<MailQueueOptions>
    {
        public ValidateOptionsResult Validate(string? name, MailQueueOptions options)
        {
            var errors = options.Check();
            return errors.HasErrors ? ValidateOptionsResult.Fail(errors.Messages) : ValidateOptionsResult.Success;
        }
    }
}
