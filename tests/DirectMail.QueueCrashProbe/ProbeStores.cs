using System;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using Microsoft.Extensions.Logging;

namespace DirectMail.QueueCrashProbe;

/// <summary>
/// The store a probe works on, named by its <c>--store</c> argument: <c>sqlite:DIRECTORY</c>. Another store is one
/// more case here (and one more <c>CrashStore</c> in the tests).
/// </summary>
internal static class ProbeStores
{
    public const string Syntax = "sqlite:DIRECTORY";

    public static IMailQueueStore Open(string spec, ILoggerFactory loggerFactory)
    {
        if (spec.StartsWith("sqlite:", StringComparison.Ordinal) && spec.Length > "sqlite:".Length)
        {
            return new SqliteMailQueueStore(spec["sqlite:".Length..], logger: loggerFactory.CreateLogger<SqliteMailQueueStore>());
        }

        throw new ArgumentException($"--store {spec}: expected {Syntax}.");
    }
}
