using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// Creates the queue's schema and tables on first use, under an advisory lock so that instances starting together do
/// it once, and records the version in <c>schema_version</c>. A schema written by a newer package is refused.
/// </summary>
internal static class SchemaMigration
{
    public static async Task EnsureAsync(NpgsqlDataSource dataSource, QueueSql sql, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = Sql.Command(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext($1))"))
        {
            lockCommand.Parameters.AddValue("directmail.queue." + sql.Schema);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {sql.Schema}", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"CREATE TABLE IF NOT EXISTS {sql.Schema}.schema_version (version integer NOT NULL)", cancellationToken).ConfigureAwait(false);
        int version;
        await using (var read = Sql.Command(connection, transaction, $"SELECT coalesce(max(version), 0) FROM {sql.Schema}.schema_version"))
        {
            version = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        if (version > QueueSql.Version)
        {
            throw new InvalidOperationException(
                $"The queue schema {sql.Schema} has version {version}; this version of DirectMail.Queue.PostgreSql knows versions up to " +
                $"{QueueSql.Version}. Use the newer package that wrote it.");
        }

        if (version < QueueSql.Version)
        {
            // A new schema gets version 1's tables, then every upgrade in turn, in this one transaction.
            if (version == 0)
            {
                foreach (var statement in sql.CreateV1)
                {
                    await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
                }
            }

            if (version < 2)
            {
                foreach (var statement in sql.AddDsnV2)
                {
                    await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
                }
            }

            if (version < 3)
            {
                foreach (var statement in sql.AddRequireTlsAndMessageIdV3)
                {
                    await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
                }
            }

            if (version < 4)
            {
                foreach (var statement in sql.AddTlsRequiredNoV4)
                {
                    await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
                }
            }

            await ExecuteAsync(connection, transaction, $"DELETE FROM {sql.Schema}.schema_version", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"INSERT INTO {sql.Schema}.schema_version (version) VALUES ({QueueSql.Version})", cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (version < QueueSql.Version)
        {
            PostgreSqlQueueLog.SchemaCreated(logger, sql.Schema, QueueSql.Version);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string text, CancellationToken cancellationToken)
    {
        await using var command = Sql.Command(connection, transaction, text);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
