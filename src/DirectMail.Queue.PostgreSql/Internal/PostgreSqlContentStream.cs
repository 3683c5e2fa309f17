using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

using DirectMail.IO;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// A message's content read part by part: each part is one short query on a pooled connection, read into one pooled
/// buffer, so no connection or transaction stays open while the content goes out to a slow server, and a large
/// message is never in memory whole. A message deleted meanwhile ends the read with an <see cref="IOException"/>.
/// </summary>
internal sealed class PostgreSqlContentStream : ForwardReadStream
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly QueueSql _sql;
    private readonly string _messageId;
    private readonly int[] _partLengths;
    private byte[]? _buffer;
    private int _bufferLength;
    private int _bufferOffset;
    private int _part = -1;
    private long _position;

    public PostgreSqlContentStream(NpgsqlDataSource dataSource, QueueSql sql, string messageId, int[] partLengths, long length)
        : base(length)
    {
        _dataSource = dataSource;
        _sql = sql;
        _messageId = messageId;
        _partLengths = partLengths;
    }

    protected override long ReadSoFar => _position;

    public override int Read(Span<byte> buffer)
    {
        while (_bufferOffset == _bufferLength)
        {
            if (!NextPart(out var part))
            {
                return 0;
            }

            Fill(part, async: false, CancellationToken.None).GetAwaiter().GetResult();
        }

        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_bufferOffset == _bufferLength)
        {
            if (!NextPart(out var part))
            {
                return 0;
            }

            await Fill(part, async: true, cancellationToken).ConfigureAwait(false);
        }

        return Take(buffer.Span);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }

        base.Dispose(disposing);
    }

    private bool NextPart(out int part)
    {
        // An empty part (empty content) is skipped: it has nothing to read.
        do
        {
            if (_part + 1 >= _partLengths.Length)
            {
                part = -1;
                return false;
            }

            _part++;
        }
        while (_partLengths[_part] == 0);

        part = _part;
        return true;
    }

    private int Take(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _bufferLength - _bufferOffset);
        _buffer.AsSpan(_bufferOffset, count).CopyTo(destination);
        _bufferOffset += count;
        _position += count;
        return count;
    }

    private async Task Fill(int part, bool async, CancellationToken cancellationToken)
    {
        var length = _partLengths[part];
        if (_buffer is null || _buffer.Length < length)
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        await using var connection = async
            ? await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false)
            : _dataSource.OpenConnection();
        await using var command = Sql.Command(connection, null, _sql.ContentPart);
        command.Parameters.AddValue(_messageId);
        command.Parameters.AddValue(part);
        // Not sequential: ReadAsync brings the whole row (one part) in, so GetBytes below never blocks on the socket.
        await using var reader = async
            ? await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false)
            : command.ExecuteReader();
        if (!(async ? await reader.ReadAsync(cancellationToken).ConfigureAwait(false) : reader.Read()))
        {
            throw new IOException($"The content of queued message {_messageId} was removed while it was being read.");
        }

        var read = (int)reader.GetBytes(0, 0, _buffer, 0, length);
        if (read != length)
        {
            throw new IOException($"Part {part} of the content of queued message {_messageId} changed while it was being read.");
        }

        _bufferOffset = 0;
        _bufferLength = read;
    }
}
