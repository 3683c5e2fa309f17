using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// The TLS report counts and claims (RFC 8460 reports, one per domain a day) of every process that opens the same
/// directory: tables of their own in <c>tlsrpt.db</c> beside <c>queue.db</c>, so the queue's schema and version are
/// untouched. Each call is one IMMEDIATE transaction: two processes claiming at once are serialized by SQLite, and one
/// wins; a batch of counts is added with its (holder, batch) row, so a batch sent again is not added twice.
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
        CREATE TABLE IF NOT EXISTS tlsrpt_policies (
            policy_domain TEXT NOT NULL,
            day TEXT NOT NULL,
            policy_key TEXT NOT NULL,
            policy_type INTEGER NOT NULL,
            policy_strings TEXT NOT NULL,
            mx_hosts TEXT NOT NULL,
            successes INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            PRIMARY KEY (policy_domain, day, policy_key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS tlsrpt_failures (
            policy_domain TEXT NOT NULL,
            day TEXT NOT NULL,
            policy_key TEXT NOT NULL,
            result_type INTEGER NOT NULL,
            sending_ip TEXT NOT NULL,
            mx_host TEXT NOT NULL,
            receiving_ip TEXT NOT NULL,
            mx_helo TEXT NOT NULL,
            sessions INTEGER NOT NULL,
            reason TEXT,
            PRIMARY KEY (policy_domain, day, policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS tlsrpt_batches (
            holder TEXT NOT NULL,
            batch INTEGER NOT NULL,
            added_day TEXT NOT NULL,
            PRIMARY KEY (holder, batch)
        ) WITHOUT ROWID;
        """;

    private const string AddPolicySql = """
        INSERT INTO tlsrpt_policies (policy_domain, day, policy_key, policy_type, policy_strings, mx_hosts, successes, failures)
        VALUES ($domain, $day, $key, $type, $strings, $mx, $successes, $failures)
        ON CONFLICT (policy_domain, day, policy_key) DO UPDATE SET
            successes = successes + excluded.successes, failures = failures + excluded.failures
        """;

    private const string AddFailureSql = """
        INSERT INTO tlsrpt_failures (policy_domain, day, policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo, sessions, reason)
        VALUES ($domain, $day, $key, $type, $sending, $host, $receiving, $helo, $sessions, $reason)
        ON CONFLICT (policy_domain, day, policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo) DO UPDATE SET
            sessions = sessions + excluded.sessions, reason = coalesce(reason, excluded.reason)
        """;

    // Counts are kept as long as claims, a week past their day.
    private const string PruneCountsSql = """
        DELETE FROM tlsrpt_policies WHERE day < $oldest;
        DELETE FROM tlsrpt_failures WHERE day < $oldest;
        DELETE FROM tlsrpt_batches WHERE added_day < $oldest;
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

    public async ValueTask AddCountsAsync(string holder, long batch, IReadOnlyList<TlsReportDomainDay> counts, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using (var once = connection.CreateCommand())
            {
                once.Transaction = transaction;
                once.CommandText = "INSERT INTO tlsrpt_batches (holder, batch, added_day) VALUES ($holder, $batch, $day) ON CONFLICT DO NOTHING";
                once.Parameters.AddWithValue("$holder", holder);
                once.Parameters.AddWithValue("$batch", batch);
                once.Parameters.AddWithValue("$day", Day(counts.Count > 0 ? counts[^1].Day : default));
                if (once.ExecuteNonQuery() == 0)
                {
                    return; // added before: its answer was lost, and it was sent again
                }
            }

            using var policy = connection.CreateCommand();
            policy.Transaction = transaction;
            policy.CommandText = AddPolicySql;
            using var failure = connection.CreateCommand();
            failure.Transaction = transaction;
            failure.CommandText = AddFailureSql;
            foreach (var day in counts)
            {
                foreach (var counted in day.Policies)
                {
                    var key = counted.StoreKey;
                    policy.Parameters.Clear();
                    policy.Parameters.AddWithValue("$domain", day.PolicyDomain);
                    policy.Parameters.AddWithValue("$day", Day(day.Day));
                    policy.Parameters.AddWithValue("$key", key);
                    policy.Parameters.AddWithValue("$type", (int)counted.PolicyType);
                    policy.Parameters.AddWithValue("$strings", TlsReportStoreText.Join(counted.PolicyStrings));
                    policy.Parameters.AddWithValue("$mx", TlsReportStoreText.Join(counted.MxHosts));
                    policy.Parameters.AddWithValue("$successes", counted.SuccessfulSessions);
                    policy.Parameters.AddWithValue("$failures", counted.FailedSessions);
                    policy.ExecuteNonQuery();
                    foreach (var row in counted.Failures)
                    {
                        failure.Parameters.Clear();
                        failure.Parameters.AddWithValue("$domain", day.PolicyDomain);
                        failure.Parameters.AddWithValue("$day", Day(day.Day));
                        failure.Parameters.AddWithValue("$key", key);
                        failure.Parameters.AddWithValue("$type", (int)row.ResultType);
                        failure.Parameters.AddWithValue("$sending", TlsReportStoreText.Address(row.SendingAddress));
                        failure.Parameters.AddWithValue("$host", row.ReceivingMxHost);
                        failure.Parameters.AddWithValue("$receiving", TlsReportStoreText.Address(row.ReceivingAddress));
                        failure.Parameters.AddWithValue("$helo", row.ReceivingHelo ?? string.Empty);
                        failure.Parameters.AddWithValue("$sessions", row.FailedSessions);
                        failure.Parameters.AddWithValue("$reason", (object?)row.ReasonCode ?? DBNull.Value);
                        failure.ExecuteNonQuery();
                    }
                }
            }

            transaction.Commit();
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask<IReadOnlyList<(string PolicyDomain, DateOnly Day)>> ListUnsentAsync(DateOnly from, DateOnly before, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using (var prune = connection.CreateCommand())
            {
                prune.CommandText = PruneCountsSql;
                prune.Parameters.AddWithValue("$oldest", Day(from.AddDays(-7)));
                prune.ExecuteNonQuery();
            }

            using var list = connection.CreateCommand();
            list.CommandText = """
                SELECT DISTINCT p.policy_domain, p.day FROM tlsrpt_policies p
                WHERE p.day >= $from AND p.day < $before AND NOT EXISTS (
                    SELECT 1 FROM tlsrpt_claims c WHERE c.policy_domain = p.policy_domain AND c.day = p.day AND c.sent_at IS NOT NULL)
                ORDER BY p.day, p.policy_domain
                """;
            list.Parameters.AddWithValue("$from", Day(from));
            list.Parameters.AddWithValue("$before", Day(before));
            var unsent = new List<(string, DateOnly)>();
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                unsent.Add((reader.GetString(0), TlsReportStoreText.Day(reader.GetString(1))));
            }

            return unsent;
        }
        finally
        {
            _database.Exit();
        }
    }

    public async ValueTask<TlsReportDomainDay> ReadCountsAsync(string policyDomain, DateOnly day, CancellationToken cancellationToken)
    {
        var connection = await _database.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // One read transaction: the policies and their failure rows are of the same moment.
            using var transaction = connection.BeginTransaction(deferred: true);
            var failures = new Dictionary<string, ImmutableArray<TlsReportFailure>.Builder>(StringComparer.Ordinal);
            using (var rows = Command(connection, transaction, "SELECT " + TlsReportStoreText.FailureColumns + " FROM tlsrpt_failures WHERE policy_domain = $domain AND day = $day", policyDomain, day))
            using (var reader = rows.ExecuteReader())
            {
                while (reader.Read())
                {
                    TlsReportStoreText.AddFailure(reader, failures);
                }
            }

            var policies = ImmutableArray.CreateBuilder<TlsReportPolicy>();
            using (var rows = Command(connection, transaction, "SELECT policy_key, policy_type, policy_strings, mx_hosts, successes, failures FROM tlsrpt_policies WHERE policy_domain = $domain AND day = $day", policyDomain, day))
            using (var reader = rows.ExecuteReader())
            {
                while (reader.Read())
                {
                    policies.Add(new TlsReportPolicy(
                        policyDomain,
                        (TlsPolicyType)reader.GetInt32(1),
                        TlsReportStoreText.Split(reader.GetString(2)),
                        TlsReportStoreText.Split(reader.GetString(3)),
                        reader.GetInt64(4),
                        reader.GetInt64(5),
                        failures.TryGetValue(reader.GetString(0), out var rows2) ? rows2.ToImmutable() : ImmutableArray<TlsReportFailure>.Empty));
                }
            }

            transaction.Commit();
            return TlsReportStoreText.Report(policyDomain, day, policies);
        }
        finally
        {
            _database.Exit();
        }
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

    private static string Day(DateOnly day) => TlsReportStoreText.Day(day);

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
