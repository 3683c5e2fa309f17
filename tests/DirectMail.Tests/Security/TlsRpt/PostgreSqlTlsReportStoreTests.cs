using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Queue.PostgreSql.Internal;
using DirectMail.Security.TlsRpt;
using DirectMail.Tests.Queue.PostgreSql;
using Npgsql;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>The PostgreSQL claims: two store instances, each with its own data source (two application instances), on one schema.</summary>
[Collection(PostgreSqlCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostgreSqlTlsReportStoreTests : TlsReportStoreContractTests, IAsyncDisposable, IClassFixture<TlsRptDnsFixture>
{
    private static int _nextSchema;
    private readonly PostgreSqlTlsReportStore _one;
    private readonly PostgreSqlTlsReportStore _two;

    public PostgreSqlTlsReportStoreTests(PostgreSqlFixture fixture)
    {
        var connectionString = fixture.Database(typeof(PostgreSqlTlsReportStoreTests));
        var schema = "t" + Interlocked.Increment(ref _nextSchema);
        _one = new PostgreSqlTlsReportStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, schema);
        _two = new PostgreSqlTlsReportStore(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, schema);
    }

    private protected override ITlsReportStore One => _one;

    private protected override ITlsReportStore Two => _two;

    [Fact]
    public async Task Two_instances_on_one_schema_send_one_report()
    {
        Assert.Equal(1, await TlsReportSchedulerTests.RaceAsync(_one, _two));
    }

    public async ValueTask DisposeAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
    }
}
