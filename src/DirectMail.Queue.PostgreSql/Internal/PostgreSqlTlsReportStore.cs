using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Security;
using DirectMail.Security.TlsRpt;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// The TLS report counts and claims (RFC 8460 reports, one per domain a day) of every instance on one PostgreSQL schema:
/// tables of their own (<c>tlsrpt_claims</c>, <c>tlsrpt_policies</c>, <c>tlsrpt_failures</c>, <c>tlsrpt_batches</c>),
/// created with <c>CREATE TABLE IF NOT EXISTS</c> (the queue's schema version is not touched). A claim is one upsert:
/// the row lock makes two instances claiming at once take turns, and one wins. A batch of counts is one transaction
/// with its (holder, batch) row, so a batch sent again is not added twice; its rows are upserted in key order, so two
/// instances adding at once wait for each other rather than deadlock.
/// </summary>
internal sealed class PostgreSqlTlsReportStore : ITlsReportStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schema;
    private readonly SideTables _tables;

    /// <param name="dataSource">The database.</param>
    /// <param name="ownsDataSource">Whether disposing the store disposes the data source.</param>
    /// <param name="schemaName">The schema (the queue's; checked by <see cref="PostgreSqlMailQueueStoreOptions.Validate"/>).</param>
    public PostgreSqlTlsReportStore(NpgsqlDataSource dataSource, bool ownsDataSource, string schemaName)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _schema = schemaName;
        _tables = new SideTables(dataSource, "directmail.tlsrpt." + schemaName, schemaName, $"""
            CREATE TABLE IF NOT EXISTS {_schema}.tlsrpt_claims (
                policy_domain text NOT NULL,
                day date NOT NULL,
                holder text NOT NULL,
                claimed_until timestamptz NOT NULL,
                sent_at timestamptz,
                PRIMARY KEY (policy_domain, day)
            );
            CREATE TABLE IF NOT EXISTS {_schema}.tlsrpt_policies (
                policy_domain text NOT NULL,
                day date NOT NULL,
                policy_key text NOT NULL,
                policy_type integer NOT NULL,
                policy_strings text NOT NULL,
                mx_hosts text NOT NULL,
                successes bigint NOT NULL,
                failures bigint NOT NULL,
                PRIMARY KEY (policy_domain, day, policy_key)
            );
            CREATE TABLE IF NOT EXISTS {_schema}.tlsrpt_failures (
                policy_domain text NOT NULL,
                day date NOT NULL,
                policy_key text NOT NULL,
                result_type integer NOT NULL,
                sending_ip text NOT NULL,
                mx_host text NOT NULL,
                receiving_ip text NOT NULL,
                mx_helo text NOT NULL,
                sessions bigint NOT NULL,
                reason text,
                PRIMARY KEY (policy_domain, day, policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo)
            );
            CREATE TABLE IF NOT EXISTS {_schema}.tlsrpt_batches (
                holder text NOT NULL,
                batch bigint NOT NULL,
                added_at timestamptz NOT NULL,
                PRIMARY KEY (holder, batch)
            );
            """);
    }

    public async ValueTask AddCountsAsync(string holder, long batch, IReadOnlyList<TlsReportDomainDay> counts, CancellationToken cancellationToken)
    {
        await _tables.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var policies = new List<(string Domain, DateOnly Day, string Key, TlsReportPolicy Policy)>();
        foreach (var day in counts)
        {
            foreach (var policy in day.Policies)
            {
                policies.Add((day.PolicyDomain, day.Day, policy.StoreKey, policy));
            }
        }

        policies.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Domain, b.Domain);
            c = c != 0 ? c : a.Day.CompareTo(b.Day);
            return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
        });

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var once = Sql.Command(connection, transaction, $"INSERT INTO {_schema}.tlsrpt_batches (holder, batch, added_at) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING"))
        {
            once.Parameters.AddValue(holder);
            once.Parameters.AddValue(batch);
            if (await once.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return; // added before: its answer was lost, and it was sent again
            }
        }

        await using var upserts = new NpgsqlBatch(connection, transaction);
        foreach (var (domain, day, key, policy) in policies)
        {
            var add = Sql.BatchCommand(upserts, $"""
                INSERT INTO {_schema}.tlsrpt_policies (policy_domain, day, policy_key, policy_type, policy_strings, mx_hosts, successes, failures)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (policy_domain, day, policy_key) DO UPDATE SET
                    successes = tlsrpt_policies.successes + excluded.successes, failures = tlsrpt_policies.failures + excluded.failures
                """);
            AddDay(add.Parameters, domain, day, key);
            add.Parameters.AddValue((int)policy.PolicyType);
            add.Parameters.AddValue(TlsReportStoreText.Join(policy.PolicyStrings));
            add.Parameters.AddValue(TlsReportStoreText.Join(policy.MxHosts));
            add.Parameters.AddValue(policy.SuccessfulSessions);
            add.Parameters.AddValue(policy.FailedSessions);
            foreach (var row in policy.Failures)
            {
                var failure = Sql.BatchCommand(upserts, $"""
                    INSERT INTO {_schema}.tlsrpt_failures (policy_domain, day, policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo, sessions, reason)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    ON CONFLICT (policy_domain, day, policy_key, result_type, sending_ip, mx_host, receiving_ip, mx_helo) DO UPDATE SET
                        sessions = tlsrpt_failures.sessions + excluded.sessions, reason = coalesce(tlsrpt_failures.reason, excluded.reason)
                    """);
                AddDay(failure.Parameters, domain, day, key);
                failure.Parameters.AddValue((int)row.ResultType);
                failure.Parameters.AddValue(TlsReportStoreText.Address(row.SendingAddress));
                failure.Parameters.AddValue(row.ReceivingMxHost);
                failure.Parameters.AddValue(TlsReportStoreText.Address(row.ReceivingAddress));
                failure.Parameters.AddValue(row.ReceivingHelo ?? string.Empty);
                failure.Parameters.AddValue(row.FailedSessions);
                failure.Parameters.Add(new NpgsqlParameter { Value = (object?)row.ReasonCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            }
        }

        if (upserts.BatchCommands.Count > 0)
        {
            await upserts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<(string PolicyDomain, DateOnly Day)>> ListUnsentAsync(DateOnly from, DateOnly before, CancellationToken cancellationToken)
    {
        await _tables.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // Counts are kept as long as claims, a week past their day.
        await using (var prune = new NpgsqlBatch(connection))
        {
            Sql.BatchCommand(prune, $"DELETE FROM {_schema}.tlsrpt_policies WHERE day < $1").Parameters.Add(DateParameter(from.AddDays(-7)));
            Sql.BatchCommand(prune, $"DELETE FROM {_schema}.tlsrpt_failures WHERE day < $1").Parameters.Add(DateParameter(from.AddDays(-7)));
            Sql.BatchCommand(prune, $"DELETE FROM {_schema}.tlsrpt_batches WHERE added_at < now() - interval '8 days'");
            await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var list = Sql.Command(connection, null, $"""
            SELECT DISTINCT p.policy_domain, p.day FROM {_schema}.tlsrpt_policies p
            WHERE p.day >= $1 AND p.day < $2 AND NOT EXISTS (
                SELECT 1 FROM {_schema}.tlsrpt_claims c WHERE c.policy_domain = p.policy_domain AND c.day = p.day AND c.sent_at IS NOT NULL)
            ORDER BY p.day, p.policy_domain
            """);
        list.Parameters.Add(DateParameter(from));
        list.Parameters.Add(DateParameter(before));
        var unsent = new List<(string, DateOnly)>();
        await using var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            unsent.Add((reader.GetString(0), reader.GetFieldValue<DateOnly>(1)));
        }

        return unsent;
    }

    public async ValueTask<TlsReportDomainDay> ReadCountsAsync(string policyDomain, DateOnly day, CancellationToken cancellationToken)
    {
        await _tables.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // One snapshot: the policies and their failure rows are of the same moment.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var failures = new Dictionary<string, ImmutableArray<TlsReportFailure>.Builder>(StringComparer.Ordinal);
        await using (var rows = Sql.Command(connection, transaction, $"SELECT {TlsReportStoreText.FailureColumns} FROM {_schema}.tlsrpt_failures WHERE policy_domain = $1 AND day = $2"))
        {
            rows.Parameters.AddValue(policyDomain);
            rows.Parameters.Add(DateParameter(day));
            await using var reader = await rows.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                TlsReportStoreText.AddFailure(reader, failures);
            }
        }

        var policies = ImmutableArray.CreateBuilder<TlsReportPolicy>();
        await using (var rows = Sql.Command(connection, transaction, $"SELECT policy_key, policy_type, policy_strings, mx_hosts, successes, failures FROM {_schema}.tlsrpt_policies WHERE policy_domain = $1 AND day = $2"))
        {
            rows.Parameters.AddValue(policyDomain);
            rows.Parameters.Add(DateParameter(day));
            await using var reader = await rows.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                policies.Add(new TlsReportPolicy(
                    policyDomain,
                    (TlsPolicyType)reader.GetInt32(1),
                    TlsReportStoreText.Split(reader.GetString(2)),
                    TlsReportStoreText.Split(reader.GetString(3)),
                    reader.GetInt64(4),
                    reader.GetInt64(5),
                    failures.TryGetValue(reader.GetString(0), out var list) ? list.ToImmutable() : ImmutableArray<TlsReportFailure>.Empty));
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return TlsReportStoreText.Report(policyDomain, day, policies);
    }

    public async ValueTask<bool> TryClaimAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken cancellationToken)
    {
        await _tables.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // An unsent claim whose time has passed (its holder died) or that is the caller's own is taken over; a sent one never.
        await using var claim = Sql.Command(connection, null, $"""
            INSERT INTO {_schema}.tlsrpt_claims (policy_domain, day, holder, claimed_until) VALUES ($1, $2, $3, $4)
            ON CONFLICT (policy_domain, day) DO UPDATE SET holder = excluded.holder, claimed_until = excluded.claimed_until
            WHERE tlsrpt_claims.sent_at IS NULL AND (tlsrpt_claims.claimed_until <= $5 OR tlsrpt_claims.holder = excluded.holder)
            """);
        claim.Parameters.AddValue(policyDomain);
        claim.Parameters.Add(DateParameter(day));
        claim.Parameters.AddValue(holder);
        claim.Parameters.AddTime(claimUntil);
        claim.Parameters.AddTime(now);
        var claimed = await claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;

        // Claims are kept a week past their day, then dropped: no report is claimed again that late.
        await using var prune = Sql.Command(connection, null, $"DELETE FROM {_schema}.tlsrpt_claims WHERE day < $1");
        prune.Parameters.Add(DateParameter(DateOnly.FromDateTime(now.UtcDateTime).AddDays(-8)));
        await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return claimed;
    }

    public async ValueTask MarkSentAsync(string policyDomain, DateOnly day, string holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _tables.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var sent = Sql.Command(connection, null, $"UPDATE {_schema}.tlsrpt_claims SET sent_at = $4 WHERE policy_domain = $1 AND day = $2 AND holder = $3");
        AddKey(sent, policyDomain, day, holder);
        sent.Parameters.AddTime(now);
        await sent.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReleaseAsync(string policyDomain, DateOnly day, string holder, CancellationToken cancellationToken)
    {
        await _tables.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var release = Sql.Command(connection, null, $"DELETE FROM {_schema}.tlsrpt_claims WHERE policy_domain = $1 AND day = $2 AND holder = $3 AND sent_at IS NULL");
        AddKey(release, policyDomain, day, holder);
        await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _tables.Dispose();
    }

    private static NpgsqlParameter<DateOnly> DateParameter(DateOnly day) => new() { TypedValue = day, NpgsqlDbType = NpgsqlDbType.Date };

    private static void AddDay(NpgsqlParameterCollection parameters, string policyDomain, DateOnly day, string key)
    {
        parameters.AddValue(policyDomain);
        parameters.Add(DateParameter(day));
        parameters.AddValue(key);
    }

    private static void AddKey(NpgsqlCommand command, string policyDomain, DateOnly day, string holder)
    {
        command.Parameters.AddValue(policyDomain);
        command.Parameters.Add(DateParameter(day));
        command.Parameters.AddValue(holder);
    }
}
