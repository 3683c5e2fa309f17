using System;
using System.CommandLine;
using System.Data.Common;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.Cli;

/// <summary>The queue named by <c>--queue DIR</c>: the embedded SQLite store in that directory and a <see cref="MailQueue"/> over it.</summary>
internal sealed class QueueStore : IAsyncDisposable
{
    private readonly SqliteMailQueueStore _store;

    private QueueStore(SqliteMailQueueStore store, MailQueue queue)
    {
        _store = store;
        Queue = queue;
    }

    public MailQueue Queue { get; }

    /// <summary><c>--queue DIR</c>, with the description of what the command does with it.</summary>
    public static Option<string?> Option(string description, bool required = false) => new("--queue")
    {
        Description = description + " STORE is a directory (the embedded SQLite store, created when missing); a PostgreSQL connection string is not taken yet.",
        HelpName = "STORE",
        Required = required,
    };

    /// <summary>Opens the store; <paramref name="create"/> false: a directory that does not exist is an error (a typo must not make an empty queue).</summary>
    public static QueueStore Open(string directory, bool create, ILoggerFactory? loggerFactory = null, MailQueueOptions? options = null)
    {
        if (!create && !Directory.Exists(directory))
        {
            throw CliException.NotFound($"--queue '{directory}': there is no queue there (no such directory).");
        }

        SqliteMailQueueStore store;
        try
        {
            store = new SqliteMailQueueStore(directory, logger: loggerFactory?.CreateLogger<SqliteMailQueueStore>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.CannotCreate, $"--queue '{directory}': the queue cannot be opened: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or DbException)
        {
            throw CliException.Input($"--queue '{directory}': not a queue this directmail can read: {e.Message}", e);
        }

        return new QueueStore(store, new MailQueue(store, options, loggerFactory));
    }

    public async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
    }
}
