using System;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Suppression;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a suppression list with DirectMail (<see cref="DirectMailer.SuppressionStore"/>).</summary>
public static class SuppressionDirectMailBuilderExtensions
{
    /// <summary>
    /// Registers <paramref name="storeFactory"/>'s store as <see cref="ISuppressionStore"/>, makes the mailer (and so the
    /// queue's worker) consult it before every send, and registers a <see cref="BounceIngester"/> over it (correlating with
    /// the queue when <c>AddQueue</c> registered one, with the VERP prefix of <c>DirectMail:Verp</c>). The container
    /// disposes the store when it is disposable.
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="storeFactory">Makes the store, once (<see cref="InMemorySuppressionStore"/>, or the SQLite and PostgreSQL packages' stores).</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddSuppressionList(this IDirectMailBuilder builder, Func<IServiceProvider, ISuppressionStore> storeFactory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(storeFactory);
        var services = builder.Services;
        services.TryAddSingleton(storeFactory);
        services.TryAddSingleton(static sp => new BounceIngester(
            sp.GetRequiredService<ISuppressionStore>(),
            sp.GetService<IMailQueue>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>())
        {
            VerpPrefix = sp.GetRequiredService<IOptions<DirectMailOptions>>().Value.Verp.Prefix,
        });

        MailerDecoration.Decorate(services, "AddSuppressionList", static (sp, mailer) => mailer.SuppressionStore ??= sp.GetRequiredService<ISuppressionStore>());
        return builder;
    }
}
