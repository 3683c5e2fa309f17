using System;
using DirectMail.Delivery;
using DirectMail.Security.TlsRpt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TLS reporting (RFC 8460) for the mailer of <c>AddDirectMail</c>.</summary>
public static class DirectMailTlsReportingExtensions
{
    /// <summary>
    /// Counts every TLS session of the mailer from its creation, and sends each day's reports from a hosted service
    /// (<see cref="TlsReporting"/>). Options come from the configuration section <c>DirectMail:TlsReporting</c>, then
    /// <paramref name="configure"/>. Several instances sending for one organization share a store with
    /// <c>AddSqliteTlsReportStore</c> or <c>AddPostgreSqlTlsReportStore</c>, so that each report goes once.
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="configure">Sets the options in code.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddTlsReporting(this IDirectMailBuilder builder, Action<TlsReportingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<TlsReportingOptions>, ConfigurationSectionBinder>());
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TlsReportingOptions>, OptionsValidator>());
        services.AddOptions<TlsReportingOptions>().ValidateOnStart();
        services.TryAddSingleton<TlsReportingSlot>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TlsReportingHostedService>());
        // Attached as the mailer is made: no session goes uncounted.
        MailerDecoration.Decorate(services, nameof(AddTlsReporting), static (sp, mailer) =>
        {
            var slot = sp.GetRequiredService<TlsReportingSlot>();
            slot.Reporting ??= new TlsReporting(
                mailer,
                sp.GetRequiredService<IOptions<TlsReportingOptions>>().Value,
                sp.GetService<ILoggerFactory>(),
                sp.GetService<TimeProvider>(),
                sp.GetService<ITlsReportStore>(),
                httpHandler: null);
        });
        return builder;
    }

    /// <summary>The reporting the mailer's factory made, for the hosted service (and disposed with the container).</summary>
    internal sealed class TlsReportingSlot : IDisposable
    {
        public TlsReporting? Reporting { get; set; }

        public void Dispose() => Reporting?.Dispose();
    }

    private sealed class TlsReportingHostedService(DirectMailer mailer, TlsReportingSlot slot) : BackgroundService
    {
        protected override System.Threading.Tasks.Task ExecuteAsync(System.Threading.CancellationToken stoppingToken)
        {
            _ = mailer; // resolved first: its factory fills the slot
            return slot.Reporting!.RunAsync(stoppingToken);
        }
    }

    private sealed class ConfigurationSectionBinder(IServiceProvider services) : IConfigureOptions<TlsReportingOptions>
    {
        public void Configure(TlsReportingOptions options)
        {
            if (services.GetService(typeof(IConfiguration)) is IConfiguration configuration)
            {
                configuration.GetSection(TlsReportingOptions.SectionName).Bind(options);
            }
        }
    }

    private sealed class OptionsValidator : IValidateOptions<TlsReportingOptions>
    {
        public ValidateOptionsResult Validate(string? name, TlsReportingOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
