using System.Net;
using DirectMail.Queue;
using DirectMail.Queue.PostgreSql;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Queue.Crash;

/// <summary>
/// The shared PostgreSQL store on a server of its own (127.0.54.41:55441, fsync on), so that the crash test keeps the
/// Postfix collection it needs and still has a real PostgreSQL: the workers and the test process each open the store
/// on the same database, as several application instances do.
/// </summary>
internal sealed class PostgreSqlCrashStore : CrashStore
{
    private readonly PostgreSqlServer _server = new(TestAddresses.PostgreSql.Crash.Address, TestAddresses.PostgreSql.Crash.Port);
    private readonly string _connectionString;

    public PostgreSqlCrashStore() => _connectionString = _server.CreateDatabase("crash");

    public override string Name => "postgresql";

    public override string Argument => "postgresql:" + _connectionString;

    public override IMailQueueStore Open() => new PostgreSqlMailQueueStore(_connectionString);

    public override void Dispose() => _server.Dispose();
}
