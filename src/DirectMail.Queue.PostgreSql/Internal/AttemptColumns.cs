using System;
using Npgsql;
using NpgsqlTypes;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>Attempts as column arrays, for one <c>INSERT ... SELECT FROM unnest(...)</c> (<see cref="QueueSql.InsertAttempts"/>).</summary>
internal sealed class AttemptColumns(int capacity)
{
    private readonly int[] _indexes = new int[capacity];
    private readonly DateTimeOffset[] _startedAt = new DateTimeOffset[capacity];
    private readonly short[] _outcomes = new short[capacity];
    private readonly string?[] _replies = new string?[capacity];
    private readonly string?[] _mxHosts = new string?[capacity];
    private readonly string?[] _serverAddresses = new string?[capacity];
    private readonly string?[] _details = new string?[capacity];
    private int _count;

    public int Count => _count;

    public void Add(int index, QueueAttempt attempt)
    {
        _indexes[_count] = index;
        _startedAt[_count] = attempt.StartedAt.ToUniversalTime();
        _outcomes[_count] = (short)attempt.Outcome;
        _replies[_count] = attempt.Reply;
        _mxHosts[_count] = attempt.MxHost;
        _serverAddresses[_count] = attempt.ServerAddress;
        _details[_count] = attempt.Detail;
        _count++;
    }

    /// <summary>$1 the message id, $2..$8 the columns.</summary>
    public void AddTo(NpgsqlParameterCollection parameters, string messageId)
    {
        parameters.AddValue(messageId);
        parameters.AddValue(_count == _indexes.Length ? _indexes : _indexes[.._count]);
        parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = _count == _startedAt.Length ? _startedAt : _startedAt[.._count], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        parameters.AddValue(_count == _outcomes.Length ? _outcomes : _outcomes[.._count]);
        AddText(parameters, _replies);
        AddText(parameters, _mxHosts);
        AddText(parameters, _serverAddresses);
        AddText(parameters, _details);
    }

    private void AddText(NpgsqlParameterCollection parameters, string?[] column)
        => parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = _count == column.Length ? column : column[.._count], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
}
