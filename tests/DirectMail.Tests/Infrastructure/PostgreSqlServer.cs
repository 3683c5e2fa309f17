using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL server from Debian's <c>postgresql</c> package: <c>initdb</c> in a temporary folder,
/// <c>pg_ctl start</c> listening only on one loopback address (and a unix socket in that folder), fsync on as in
/// production, stopped and deleted on dispose. PostgreSQL refuses to run as root, so as root it runs as the
/// <c>postgres</c> system user, owning the folder. Free of test-framework types so that the benchmarks can link it.
/// </summary>
internal sealed class PostgreSqlServer : IDisposable
{
    private readonly string _root;
    private readonly string _data;
    private readonly string _bin;
    private readonly bool _asPostgresUser;
    private bool _started;

    public PostgreSqlServer(IPAddress address, int port)
    {
        Address = address;
        Port = port;
        _bin = FindBinDirectory();
        _asPostgresUser = Environment.UserName == "root";
        _root = Directory.CreateTempSubdirectory("directmail-pg-").FullName;
        _data = Path.Combine(_root, "data");
        try
        {
            if (_asPostgresUser)
            {
                Run("chown", ["postgres:postgres", _root], asPostgres: false);
            }

            Run(Path.Combine(_bin, "initdb"), ["-D", _data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"], _asPostgresUser);
            var options = string.Create(CultureInfo.InvariantCulture,
                $"-c listen_addresses={address} -p {port} -c unix_socket_directories={_root} -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=64MB");
            Run(Path.Combine(_bin, "pg_ctl"), ["start", "-D", _data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "-o", options], _asPostgresUser);
            _started = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IPAddress Address { get; }

    public int Port { get; }

    /// <summary>The connection string of a database on this server.</summary>
    public string ConnectionString(string database, int maxPoolSize = 50)
        => string.Create(CultureInfo.InvariantCulture, $"Host={Address};Port={Port};Username=postgres;Database={database};Maximum Pool Size={maxPoolSize};Include Error Detail=true");

    /// <summary>Creates an empty database (a lower-case identifier) and returns its connection string.</summary>
    public string CreateDatabase(string name)
    {
        if (!Regex.IsMatch(name, "^[a-z_][a-z0-9_]*$"))
        {
            throw new ArgumentException($"'{name}' is not a plain database name.", nameof(name));
        }

        using (var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }

        return ConnectionString(name);
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            _started = false;
            try
            {
                Run(Path.Combine(_bin, "pg_ctl"), ["stop", "-D", _data, "-m", "fast", "-w", "-t", "30"], _asPostgresUser);
            }
            catch (InvalidOperationException)
            {
                Run(Path.Combine(_bin, "pg_ctl"), ["stop", "-D", _data, "-m", "immediate", "-w", "-t", "30"], _asPostgresUser);
            }
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>The newest installed version's bin folder: /usr/lib/postgresql/N/bin.</summary>
    private static string FindBinDirectory()
    {
        const string Root = "/usr/lib/postgresql";
        var bin = Directory.Exists(Root)
            ? Directory.GetDirectories(Root)
                .Select(d => (Path: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => File.Exists(Path.Combine(d.Path, "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Path)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException($"PostgreSQL is not installed (no {Root}/*/bin/pg_ctl): apt-get install postgresql (tests/run does).");
    }

    private static void Run(string file, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (asPostgres)
        {
            foreach (var prefix in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish in 120 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {output.Result}{error.Result}");
        }
    }
}
