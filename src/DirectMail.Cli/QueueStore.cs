using System;
using System.CommandLine;
using System.Data.Common;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using DirectMail.Queue.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DirectMail.Cli;

/// <summary>
/// The queue named by <c>--queue STORE</c> and a <see cref="MailQueue"/> over it: a PostgreSQL connection string
/// (<c>Host=...</c> or <c>postgresql://...</c>) opens the shared PostgreSQL store; anything else is a directory, the
/// embedded SQLite store in it.
/// </summary>
internal sealed class QueueStore : IAsyncDisposable
{
    private readonly IMailQueueStore _store;
    private readonly SuppressionStores? _suppression;

    private QueueStore(IMailQueueStore store, MailQueue queue, SuppressionStores? suppression)
    {
        _store = store;
        Queue = queue;
        _suppression = suppression;
    }

    public MailQueue Queue { get; }

    /// <summary>The queue's suppression list when it was opened with it (<c>withSuppression</c>), else null.</summary>
    public DirectMail.Suppression.ISuppressionStore? Suppression => _suppression?.Store;

    /// <summary><c>--queue STORE</c>, with the description of what the command does with it.</summary>
    public static Option<string?> Option(string description, bool required = false) => new("--queue")
    {
        Description = description + " STORE is a directory (the embedded SQLite store, created when missing) or a PostgreSQL connection string (Host=...;Database=...;Username=... or postgresql://user@host/db; the schema 'directmail' is created on first use).",
        HelpName = "STORE",
        Required = required,
    };

    /// <summary>
    /// Opens the store; <paramref name="create"/> false: a directory that does not exist is an error (a typo must not
    /// make an empty queue). A PostgreSQL store is reached, and its schema made, on first use.
    /// <paramref name="withSuppression"/>: the queue consults the suppression list kept beside it
    /// (<c>directmail suppression add</c>, <c>directmail bounce ingest</c>), so a suppressed recipient is failed at
    /// enqueue, not sent (<see cref="MailQueue.SuppressionStore"/>); <see cref="Suppression"/> is that list.
    /// </summary>
    public static QueueStore Open(string store, bool create, ILoggerFactory? loggerFactory = null, MailQueueOptions? options = null, bool withSuppression = false)
    {
        IMailQueueStore opened = PostgreSqlConnectionString(store) is { } connectionString
            ? OpenPostgreSql(connectionString, loggerFactory)
            : OpenSqlite(store, create, loggerFactory);
        SuppressionStores? suppression = null;
        try
        {
            suppression = withSuppression ? SuppressionStores.Open(store, create) : null;
        }
        catch
        {
            opened.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return new QueueStore(opened, new MailQueue(opened, options, loggerFactory) { SuppressionStore = suppression?.Store }, suppression);
    }

    /// <summary>The Npgsql connection string when <paramref name="store"/> is one (keywords or a URI), else null.</summary>
    internal static string? PostgreSqlConnectionString(string store)
    {
        if (store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
        {
            return FromUri(store);
        }

        return store.Contains('=', StringComparison.Ordinal) && store.Contains("host", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(store)
            ? store
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync().ConfigureAwait(false);
        if (_suppression is not null)
        {
            await _suppression.DisposeAsync().ConfigureAwait(false);
        }

        await _store.DisposeAsync().ConfigureAwait(false);
    }

    private static PostgreSqlMailQueueStore OpenPostgreSql(string connectionString, ILoggerFactory? loggerFactory)
    {
        try
        {
            return new PostgreSqlMailQueueStore(connectionString, logger: loggerFactory?.CreateLogger<PostgreSqlMailQueueStore>());
        }
        catch (ArgumentException e)
        {
            throw CliException.Usage($"--queue: not a PostgreSQL connection string Npgsql takes: {e.Message}");
        }
    }

    private static SqliteMailQueueStore OpenSqlite(string directory, bool create, ILoggerFactory? loggerFactory)
    {
        if (!create && !Directory.Exists(directory))
        {
            throw CliException.NotFound($"--queue '{directory}': there is no queue there (no such directory).");
        }

        try
        {
            return new SqliteMailQueueStore(directory, logger: loggerFactory?.CreateLogger<SqliteMailQueueStore>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.CannotCreate, $"--queue '{directory}': the queue cannot be opened: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or DbException)
        {
            throw CliException.Input($"--queue '{directory}': not a queue this directmail can read: {e.Message}", e);
        }
    }

    /// <summary><c>postgresql://user:password@host:port/database?sslmode=require</c> as Npgsql's keywords (Npgsql takes no URIs).</summary>
    private static string FromUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw CliException.Usage($"--queue: '{text}' is not a PostgreSQL URI (postgresql://user:password@host:port/database).");
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
            try
            {
                builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
            }
            catch (ArgumentException e)
            {
                throw CliException.Usage($"--queue: the URI parameter '{key}' is not one Npgsql knows: {e.Message}");
            }
        }

        return builder.ConnectionString;
    }
}
