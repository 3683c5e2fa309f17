using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;

using DirectMail.IO;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// A message's content read part by part with incremental blob I/O, straight into the caller's buffer: a large
/// message is never in memory whole. Owns its read connection. No transaction is held open while the content is sent
/// (a long read transaction would keep the WAL from being checkpointed); each part is read whole on its own, and a
/// message deleted meanwhile ends the read with an <see cref="IOException"/>.
/// </summary>
internal sealed class SqliteContentStream : ForwardReadStream
{
    private readonly SqliteConnection _connection;
    private readonly IReadOnlyList<long> _parts;
    private readonly string _messageId;
    private SqliteBlob? _blob;
    private int _part = -1;
    private long _position;

    public SqliteContentStream(SqliteConnection connection, string messageId, IReadOnlyList<long> parts, long length)
        : base(length)
    {
        _connection = connection;
        _messageId = messageId;
        _parts = parts;
    }

    protected override long ReadSoFar => _position;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_blob is not null)
            {
                var read = _blob.Read(buffer);
                if (read > 0)
                {
                    _position += read;
                    return read;
                }

                _blob.Dispose();
                _blob = null;
            }

            if (_part + 1 >= _parts.Count)
            {
                return 0;
            }

            _part++;
            try
            {
                _blob = new SqliteBlob(_connection, "content", "data", _parts[_part], readOnly: true);
            }
            catch (SqliteException exception)
            {
                throw new IOException($"The content of queued message {_messageId} was removed while it was being read.", exception);
            }
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(Read(buffer.Span));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _blob?.Dispose();
            _blob = null;
            _connection.Dispose();
        }

        base.Dispose(disposing);
    }
}
