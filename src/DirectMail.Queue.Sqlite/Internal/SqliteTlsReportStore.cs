using System;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security.TlsRpt;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The TLS report claims (RFC 8460 reports, one per domain a day) of every process that opens the same directory: a
/// table of its own in <c>tlsrpt.db</c> beside <c>queue.db</c>, so the queue's schema and version are untouched. Each
/// call is one IMMEDIATE transaction: two processes claiming at once are serialized by SQLite, and one wins.
/// </summary>
internal sealed class SqliteTlsReportStore : ITlsReportStore, IDisposable
{
    internal const string DatabaseFileName = "tlsrpt.db";

    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        CREATE TABLE IF NOT EXISTS tlsrpt_claims (
            policy_domain TEXT NOT NULL,
            day TEXT NOT NULL,
            holder TEXT NOT NULL,
            claimed_until INTEGER NOT NULL,
            sent_at INTEGER,
            PRIMARY KEY (policy_domain, day)
        ) WITHOUT ROWID;
        """;

    // An unsent claim whose time has passed (its holder died) or that is the caller's own is taken over; a sent one never.
    private const string ClaimSql = """
        INSERT INTO tlsrpt_claims (policy_domain, day, holder, claimed_until) VALUES ($domain, $day, $holder, $until)
        ON CONFLICT (policy_domain, day) DO UPDATE SET holder = excluded.holder, claimed_until = excluded.claimed_until
        WHERE sent_at IS NULL AND (claimed_until <= $now OR holder = excluded.holder)
        """;

    // Claims are kept a week past their day, then dropped: no report is claimed again that late.
    private const string PruneSql = "DELETE FROM tlsrpt_claims WHERE day < $oldest";

    private readonly SqliteSideDatabase _database;

    public SqliteTlsReportStore(string directory, TimeSpan busyTimeout)
    {
        _database = new SqliteSideDatabase(Path.GetFullPath(directory), DatabaseFileName, busyTimeout, Schema);
    }

    public async ValueTask<bool> TryClaimAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            int changed;
            using (var claim = Command(connection, transaction, ClaimSql, policyDomain, day))
            {
                claim.Parameters.AddWithValue("$holder", holder);
                claim.Parameters.AddWithValue("$until", claimUntil.UtcTicks);
                claim.Parameters.AddWithValue("$now", now.UtcTicks);
                changed = claim.ExecuteNonQuery();
            }

            using (var prune = Command(connection, transaction, PruneSql, policyDomain, day))
            {
                prune.Parameters.AddWithValue("$oldest", Day(DateOnly.FromDateTime(now.UtcDateTime).AddDays(-8)));
                prune.ExecuteNonQuery();
            }

            transaction.Commit();
            return changed == 1;
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask MarkSentAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var sent = Command(connection, null, "UPDATE tlsrpt_claims SET sent_at = $now WHERE policy_domain = $domain AND day = $day AND holder = $holder", policyDomain, day);
            sent.Parameters.AddWithValue("$now", now.UtcTicks);
            sent.Parameters.AddWithValue("$holder", holder);
            sent.ExecuteNonQuery();
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask ReleaseAsync(string policyDomain, DateOnly day, string holder, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var release = Command(connection, null, "DELETE FROM tlsrpt_claims WHERE policy_domain = $domain AND day = $day AND holder = $holder AND sent_at IS NULL", policyDomain, day);
            release.Parameters.AddWithValue("$holder", holder);
            release.ExecuteNonQuery();
        }
        finally
        {
            _database.Exit();
        }
    }

    public void Dispose() => _database.Dispose();

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, string policyDomain, DateOnly day)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$domain", policyDomain);
        command.Parameters.AddWithValue("$day", Day(day));
        return command;
    }
}
