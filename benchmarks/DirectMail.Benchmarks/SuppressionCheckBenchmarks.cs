using System;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DirectMail.Dsn;
using DirectMail.Queue.Sqlite;
using DirectMail.Smtp;
using DirectMail.Suppression;

namespace DirectMail.Benchmarks;

/// <summary>
/// What a suppression list costs SendAsync: one <see cref="ISuppressionStore.FindAsync"/> per recipient before any
/// connection (<see cref="Delivery.DirectMailer.SuppressionStore"/>), against a list of 10,000 entries, for a recipient
/// that is not on it (the common case) and one that is; in memory and in the SQLite queue database.
/// </summary>
[MemoryDiagnoser]
public class SuppressionCheckBenchmarks
{
    private const int Entries = 10_000;
    private readonly InMemorySuppressionStore _memory = new();
    private string _directory = string.Empty;
    private SqliteSuppressionStore _sqlite = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "dm-bench-suppress-" + Guid.NewGuid().ToString("N"));
        _sqlite = new SqliteSuppressionStore(_directory);
        var at = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < Entries; i++)
        {
            var entry = new SuppressedRecipient(string.Create(CultureInfo.InvariantCulture, $"user{i}@Example.com"), SuppressionSource.Bounce, at)
            {
                Classification = BounceClassification.InvalidRecipient,
                Status = new EnhancedStatusCode(5, 1, 1),
                Diagnostic = "550 5.1.1 User unknown",
            };
            await _memory.AddAsync(entry);
            await _sqlite.AddAsync(entry);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sqlite.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> InMemoryNotSuppressed() => await _memory.FindAsync("someone.else@example.net") is null;

    [Benchmark]
    public async Task<bool> InMemorySuppressed() => await _memory.FindAsync("user4711@EXAMPLE.com") is null;

    [Benchmark]
    public async Task<bool> SqliteNotSuppressed() => await _sqlite.FindAsync("someone.else@example.net") is null;

    [Benchmark]
    public async Task<bool> SqliteSuppressed() => await _sqlite.FindAsync("user4711@EXAMPLE.com") is null;
}
