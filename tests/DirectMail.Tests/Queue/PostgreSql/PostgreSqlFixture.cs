using System;
using System.Collections.Concurrent;
using System.Net;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue.PostgreSql;

/// <summary>
/// One PostgreSQL server for the whole test run (127.0.54.32:55432; tests run in their own network namespace, so a
/// fixed port is fine), and a fresh database per test class.
/// </summary>
public sealed class PostgreSqlFixture : IDisposable
{
    public static readonly IPAddress Address = TestAddresses.PostgreSql.Shared.Address;
    public static readonly int Port = TestAddresses.PostgreSql.Shared.Port;

    private readonly PostgreSqlServer _server = new(Address, Port);
    private readonly ConcurrentDictionary<string, string> _databases = new(StringComparer.Ordinal);

    /// <summary>The connection string of the database of <paramref name="testClass"/>, created on first use.</summary>
    public string Database(Type testClass)
        => _databases.GetOrAdd(testClass.Name.ToLowerInvariant(), name => _server.CreateDatabase(name));

    public void Dispose() => _server.Dispose();
}

/// <summary>The test classes that share the PostgreSQL server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlCollection : ICollectionFixture<PostgreSqlFixture>
{
    public const string Name = "PostgreSQL";
}
