using System;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using DirectMail.Queue.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.QueueCrashProbe;

/// <summary>
/// The store a probe works on, named by its <c>--store</c> argument: <c>sqlite:DIRECTORY</c> or
/// <c>postgresql:CONNECTION-STRING</c>.
/// </summary>
internal static class ProbeStores
{
    public const string Syntax = "sqlite:DIRECTORY or postgresql:CONNECTION-STRING";

    public static IMailQueueStore Open(string spec, ILoggerFactory loggerFactory)
    {
        if (spec.StartsWith("sqlite:", StringComparison.Ordinal) && spec.Length > "sqlite:".Length)
        {
            return new SqliteMailQueueStore(spec["sqlite:".Length..], logger: loggerFactory.CreateLogger<SqliteMailQueueStore>());
        }

        if (spec.StartsWith("postgresql:", StringComparison.Ordinal) && spec.Length > "postgresql:".Length)
        {
            return new PostgreSqlMailQueueStore(spec["postgresql:".Length..], logger: loggerFactory.CreateLogger<PostgreSqlMailQueueStore>());
        }

        throw new ArgumentException($"--store {spec}: expected {Syntax}.");
    }
}
