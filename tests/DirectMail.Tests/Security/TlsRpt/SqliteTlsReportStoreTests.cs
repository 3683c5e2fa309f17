using System;
using System.IO;
using DirectMail.Queue.Sqlite.Internal;
using DirectMail.Security.TlsRpt;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>The SQLite claims: two store instances (two processes' connections) on one directory's <c>tlsrpt.db</c>.</summary>
[Trait("Category", "Integration")]
public sealed class SqliteTlsReportStoreTests : TlsReportStoreContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("directmail-tlsrpt-").FullName;
    private readonly SqliteTlsReportStore _one;
    private readonly SqliteTlsReportStore _two;

    public SqliteTlsReportStoreTests()
    {
        _one = new SqliteTlsReportStore(_directory, TimeSpan.FromSeconds(10));
        _two = new SqliteTlsReportStore(_directory, TimeSpan.FromSeconds(10));
    }

    private protected override ITlsReportStore One => _one;

    private protected override ITlsReportStore Two => _two;

    [Fact]
    public async System.Threading.Tasks.Task The_claims_live_in_their_own_database_beside_the_queue()
    {
        // The queue's database and its schema version are not touched: the claims are a file of their own.
        Assert.True(await _one.TryClaimAsync("x.example", new DateOnly(2026, 12, 1), "a", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), default));

        Assert.True(File.Exists(Path.Combine(_directory, SqliteTlsReportStore.DatabaseFileName)));
        Assert.False(File.Exists(Path.Combine(_directory, "queue.db")));
    }

    public void Dispose()
    {
        _one.Dispose();
        _two.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
