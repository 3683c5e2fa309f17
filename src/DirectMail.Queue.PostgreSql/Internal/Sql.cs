using System;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>Commands with positional, typed parameters (no boxing, no SQL rewriting).</summary>
internal static class Sql
{
    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string text)
        => new(text, connection, transaction);

    public static NpgsqlBatchCommand BatchCommand(NpgsqlBatch batch, string text)
    {
        var command = new NpgsqlBatchCommand(text);
        batch.BatchCommands.Add(command);
        return command;
    }

    public static void AddValue<T>(this NpgsqlParameterCollection parameters, T value)
        => parameters.Add(new NpgsqlParameter<T> { TypedValue = value });

    /// <summary>A time as timestamptz: Npgsql takes only UTC offsets.</summary>
    public static void AddTime(this NpgsqlParameterCollection parameters, DateTimeOffset value)
        => parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = value.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });

    /// <summary>A time or NULL, as timestamptz.</summary>
    public static void AddTime(this NpgsqlParameterCollection parameters, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            parameters.AddTime(time);
        }
        else
        {
            parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        }
    }
}
