using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// An operator's operation on one message or all of them, in one transaction: the messages concerned are locked first
/// (in id order, as every writer locks a message before its recipients), then changed in one batch.
/// </summary>
internal static class OperationRun
{
    /// <summary>The reply recorded for an operator's bounce.</summary>
    public const string BounceReply = "550 5.0.0 Bounced by the queue operator";

    public static async Task<int> RunAsync(NpgsqlDataSource dataSource, QueueSql sql, string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var ids = await LockAsync(connection, transaction, sql, messageId, operation, now, cancellationToken).ConfigureAwait(false);
        if (ids.Length == 0)
        {
            return 0;
        }

        int changed;
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            NpgsqlBatchCommand counted;
            switch (operation)
            {
                case QueueOperation.Hold:
                    counted = Add(batch, sql.Hold, ids);
                    foreach (var text in sql.HoldEnd)
                    {
                        Add(batch, text, ids);
                    }

                    break;
                case QueueOperation.Release:
                    counted = Add(batch, sql.Release, ids, now);
                    Add(batch, sql.RefreshDue, ids);
                    break;
                case QueueOperation.Flush:
                    counted = Add(batch, sql.Flush, ids, now);
                    Add(batch, sql.RefreshDue, ids);
                    break;
                case QueueOperation.Bounce:
                    Add(batch, sql.BounceAttempts, ids, now).Parameters.AddValue(BounceReply);
                    counted = Add(batch, sql.Bounce, ids);
                    foreach (var text in sql.BounceEnd)
                    {
                        Add(batch, text, ids);
                    }

                    break;
                case QueueOperation.Delete:
                    await using (var count = Sql.Command(connection, transaction, sql.DeleteCount))
                    {
                        count.Parameters.AddValue(ids);
                        changed = Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                    }

                    Add(batch, sql.Delete, ids);
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return changed;
                default:
                    throw new ArgumentOutOfRangeException(nameof(operation), operation, "Not a queue operation.");
            }

            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            changed = counted.RecordsAffected;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changed;
    }

    private static async Task<string[]> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, QueueSql sql, string? messageId, QueueOperation operation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var text = operation switch
        {
            QueueOperation.Hold => sql.LockHold,
            QueueOperation.Release => sql.LockRelease,
            QueueOperation.Flush => sql.LockFlush,
            QueueOperation.Bounce => sql.LockBounce,
            QueueOperation.Delete => sql.LockDelete,
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "Not a queue operation."),
        };
        await using var command = Sql.Command(connection, transaction, text);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)messageId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        if (operation == QueueOperation.Flush)
        {
            command.Parameters.AddTime(now);
        }

        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids.ToArray();
    }

    private static NpgsqlBatchCommand Add(NpgsqlBatch batch, string text, string[] ids, DateTimeOffset? now = null)
    {
        var command = Sql.BatchCommand(batch, text);
        command.Parameters.AddValue(ids);
        if (now is { } time)
        {
            command.Parameters.AddTime(time);
        }

        return command;
    }
}
