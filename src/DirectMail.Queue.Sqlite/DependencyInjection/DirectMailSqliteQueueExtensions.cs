using System;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DirectMail's queue over the embedded SQLite store.</summary>
public static class DirectMailSqliteQueueExtensions
{
    /// <summary>
    /// Registers the queue (<see cref="DirectMailQueueServiceCollectionExtensions.AddQueue"/>) over a
    /// <see cref="SqliteMailQueueStore"/> in <paramref name="directory"/> (created with mode 0700 if missing; the
    /// database is <c>queue.db</c> inside it).
    /// </summary>
    /// <param name="builder">The builder <c>AddDirectMail</c> returned.</param>
    /// <param name="directory">The store's directory, on a local disk (SQLite's WAL needs one).</param>
    /// <param name="configure">Sets queue options in code, after the configuration section <c>DirectMail:Queue</c>.</param>
    /// <param name="configureStore">Sets the store's options.</param>
    /// <returns>The builder.</returns>
    public static IDirectMailBuilder AddSqliteQueue(this IDirectMailBuilder builder, string directory, Action<MailQueueOptions>? configure = null, Action<SqliteMailQueueStoreOptions>? configureStore = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var storeOptions = new SqliteMailQueueStoreOptions();
        configureStore?.Invoke(storeOptions);
        return builder.AddQueue(
            sp => new SqliteMailQueueStore(directory, storeOptions, sp.GetService<ILoggerFactory>()?.CreateLogger<SqliteMailQueueStore>()),
            configure);
    }
}
