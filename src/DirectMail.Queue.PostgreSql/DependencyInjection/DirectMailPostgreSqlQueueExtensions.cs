using System;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DirectMail's queue over the shared PostgreSQL store.</summary>
public static class DirectMailPostgreSqlQueueExtensions
{
    /// <summary>
    /// Registers the queue (<see cref="DirectMailQueueServiceCollectionExtensions.AddQueue"/>) over a
    /// <see cref="PostgreSqlMailQueueStore"/> on its own <see cref="NpgsqlDataSource"/> made from
    /// <paramref name="connectionString"/> (pooled connections; disposed with the container). Every instance
    /// registered on the same database and schema shares one queue and its per-destination limits.
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string (<c>Host=...;Database=...;Username=...;Password=...</c>).</param>
    /// <param name="configure">Sets queue options in code, after the configuration section <c>DirectMail:Queue</c>.</param>
    /// <param name="configureStore">Sets the store's options (the schema name).</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddPostgreSqlQueue(this IDirectMailBuilder builder, string connectionString, Action<MailQueueOptions>? configure = null, Action<PostgreSqlMailQueueStoreOptions>? configureStore = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var storeOptions = new PostgreSqlMailQueueStoreOptions();
        configureStore?.Invoke(storeOptions);
        return builder.AddQueue(
            sp => new PostgreSqlMailQueueStore(connectionString, storeOptions, sp.GetService<ILoggerFactory>()?.CreateLogger<PostgreSqlMailQueueStore>()),
            configure);
    }
}
