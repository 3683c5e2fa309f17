using System;
using System.Data.Common;
using System.IO;
using System.Threading.Tasks;
using DirectMail.Queue.PostgreSql;
using DirectMail.Queue.Sqlite;
using DirectMail.Suppression;

namespace DirectMail.Cli;

/// <summary>The suppression list of the queue named by <c>--queue STORE</c>: its table in the SQLite directory's database or in the PostgreSQL schema.</summary>
internal sealed class SuppressionStores : IAsyncDisposable
{
    private readonly IAsyncDisposable? _asyncOwner;
    private readonly IDisposable? _owner;

    private SuppressionStores(ISuppressionStore store, IAsyncDisposable? asyncOwner, IDisposable? owner)
    {
        Store = store;
        _asyncOwner = asyncOwner;
        _owner = owner;
    }

    public ISuppressionStore Store { get; }

    /// <summary>Opens the list; <paramref name="create"/> false: a directory that does not exist is an error (a typo must not make an empty list).</summary>
    public static SuppressionStores Open(string store, bool create)
    {
        if (QueueStore.PostgreSqlConnectionString(store) is { } connectionString)
        {
            try
            {
                var postgres = new PostgreSqlSuppressionStore(connectionString);
                return new SuppressionStores(postgres, postgres, null);
            }
            catch (ArgumentException e)
            {
                throw CliException.Usage($"--queue: not a PostgreSQL connection string Npgsql takes: {e.Message}");
            }
        }

        if (!create && !Directory.Exists(store))
        {
            throw CliException.NotFound($"--queue '{store}': there is no queue there (no such directory).");
        }

        try
        {
            var sqlite = new SqliteSuppressionStore(store);
            return new SuppressionStores(sqlite, null, sqlite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.CannotCreate, $"--queue '{store}': the suppression list cannot be opened: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or DbException)
        {
            throw CliException.Input($"--queue '{store}': not a queue this directmail can read: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _owner?.Dispose();
        if (_asyncOwner is not null)
        {
            await _asyncOwner.DisposeAsync().ConfigureAwait(false);
        }
    }
}
