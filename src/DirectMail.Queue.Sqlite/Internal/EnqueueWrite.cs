using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// Keeps one message: its row, its recipients (with the attempt made before it was queued) and its content. The
/// producer has already read the content's first part (all of it, for a message up to <see cref="SqliteWriteContext.PartSize"/>),
/// so a batch of small messages never waits on a caller's stream; a larger one's remaining parts are read here.
/// </summary>
internal sealed class EnqueueWrite : SqliteWrite<bool>, IDisposable
{
    private readonly QueueEntry _entry;
    private readonly Stream? _rest;
    private byte[]? _firstPart;
    private readonly int _firstPartLength;

    public EnqueueWrite(QueueEntry entry, byte[] firstPart, int firstPartLength, Stream? rest, CancellationToken cancellationToken)
        : base(cancellationToken)
    {
        _entry = entry;
        _firstPart = firstPart;
        _firstPartLength = firstPartLength;
        _rest = rest;
    }

    /// <summary>
    /// Reads the content's first part into a pooled buffer sized to it: what the producer holds while it waits is at
    /// most one part, however large the message.
    /// </summary>
    /// <returns>The buffer (to return to the pool), the octets in it, and whether the content goes on past it.</returns>
    public static async ValueTask<(byte[] Buffer, int Length, bool More)> ReadFirstPartAsync(Stream content, CancellationToken cancellationToken)
    {
        var size = 16 * 1024;
        if (content.CanSeek)
        {
            // One more than what is left, so that the read that finds the end fits in the same buffer.
            size = (int)Math.Clamp(content.Length - content.Position + 1, 1, SqliteWriteContext.PartSize);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= SqliteWriteContext.PartSize)
                    {
                        return (buffer, length, true);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, SqliteWriteContext.PartSize));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var limit = Math.Min(buffer.Length, SqliteWriteContext.PartSize);
                var read = await content.ReadAsync(buffer.AsMemory(length, limit - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length, false);
                }

                length += read;
                if (length == SqliteWriteContext.PartSize)
                {
                    return (buffer, length, true);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (_firstPart is { } part)
        {
            _firstPart = null;
            ArrayPool<byte>.Shared.Return(part);
        }
    }

    protected override async ValueTask<bool> ExecuteCoreAsync(SqliteWriteContext context)
    {
        var entry = _entry;
        var insert = context.Command(
            "INSERT INTO messages (id, sender, body_type, smtputf8, enqueued_at, expires_at, size, dsn_ret, dsn_envid, require_tls, internet_message_id, tls_required_no, done) " +
            "VALUES ($id, $sender, $body, $utf8, $enqueued, $expires, $size, $ret, $envid, $requiretls, $mid, $tlsno, $done)");
        // Every recipient suppressed at enqueue: kept settled (done), and its content is not kept (nothing will send it).
        var settled = QueueStoreArguments.IsSettled(entry);
        insert.Parameters.AddWithValue("$id", entry.MessageId);
        insert.Parameters.AddWithValue("$sender", entry.Sender);
        insert.Parameters.AddWithValue("$body", (int)entry.BodyType);
        insert.Parameters.AddWithValue("$utf8", entry.RequiresSmtpUtf8 ? 1 : 0);
        insert.Parameters.AddWithValue("$enqueued", entry.EnqueuedAt.UtcTicks);
        insert.Parameters.AddWithValue("$expires", entry.ExpiresAt.UtcTicks);
        insert.Parameters.AddWithValue("$size", (long)_firstPartLength);
        insert.Parameters.AddWithValue("$ret", entry.DsnReturn is { } ret ? (int)ret : DBNull.Value);
        insert.Parameters.AddWithValue("$envid", (object?)entry.DsnEnvelopeId ?? DBNull.Value);
        insert.Parameters.AddWithValue("$requiretls", entry.RequireTls ? 1 : 0);
        insert.Parameters.AddWithValue("$mid", (object?)entry.InternetMessageId ?? DBNull.Value);
        insert.Parameters.AddWithValue("$tlsno", entry.IgnoreRecipientTlsPolicy ? 1 : 0);
        insert.Parameters.AddWithValue("$done", settled ? 1 : 0);
        try
        {
            insert.ExecuteNonQuery();
        }
        catch (SqliteException exception) when (exception.SqliteErrorCode == 19)
        {
            // SQLITE_CONSTRAINT on the primary key: the queue made an id twice.
            throw new InvalidOperationException($"A message with queue id {entry.MessageId} is already in the store.", exception);
        }

        for (var i = 0; i < entry.Recipients.Count; i++)
        {
            var recipient = entry.Recipients[i];
            var row = context.Command(
                "INSERT INTO recipients (message_id, idx, address, state, next_attempt_at, attempts, dsn_notify, dsn_orcpt) " +
                "VALUES ($id, $idx, $address, $state, $next, $attempts, $notify, $orcpt)");
            row.Parameters.AddWithValue("$id", entry.MessageId);
            row.Parameters.AddWithValue("$idx", i);
            row.Parameters.AddWithValue("$address", recipient.Address);
            row.Parameters.AddWithValue("$state", (int)recipient.State);
            row.Parameters.AddWithValue("$next", recipient.State == QueueRecipientState.Failed ? DBNull.Value : recipient.NextAttemptAt.UtcTicks);
            row.Parameters.AddWithValue("$attempts", recipient.FirstAttempt is null ? 0 : 1);
            row.Parameters.AddWithValue("$notify", (int)recipient.Notify);
            row.Parameters.AddWithValue("$orcpt", (object?)recipient.OriginalRecipient ?? DBNull.Value);
            row.ExecuteNonQuery();
            if (recipient.FirstAttempt is { } attempt)
            {
                context.InsertAttempt(entry.MessageId, i, attempt);
            }
        }

        if (!settled)
        {
            WritePart(context, entry.MessageId, 0, _firstPart.AsSpan(0, _firstPartLength));
        }

        if (_rest is null)
        {
            return true;
        }

        long size = _firstPartLength;
        var buffer = context.PartBuffer;
        for (var part = 1; ; part++)
        {
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await _rest.ReadAsync(buffer.AsMemory(length), CancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            if (length == 0)
            {
                break;
            }

            if (!settled)
            {
                WritePart(context, entry.MessageId, part, buffer.AsSpan(0, length));
            }

            size += length;
            if (length < buffer.Length)
            {
                break;
            }
        }

        var update = context.Command("UPDATE messages SET size = $size WHERE id = $id");
        update.Parameters.AddWithValue("$id", entry.MessageId);
        update.Parameters.AddWithValue("$size", size);
        update.ExecuteNonQuery();
        return true;
    }

    private static void WritePart(SqliteWriteContext context, string messageId, int part, ReadOnlySpan<byte> data)
    {
        // zeroblob + incremental I/O writes the octets straight from the buffer: no byte[] of the exact size is made.
        var command = context.Command(
            "INSERT INTO content (message_id, part, data) VALUES ($id, $part, zeroblob($length)) RETURNING rowid");
        command.Parameters.AddWithValue("$id", messageId);
        command.Parameters.AddWithValue("$part", part);
        command.Parameters.AddWithValue("$length", data.Length);
        var rowid = (long)command.ExecuteScalar()!;
        if (data.IsEmpty)
        {
            return;
        }

        using var blob = new SqliteBlob(context.Connection, "content", "data", rowid);
        blob.Write(data);
    }
}
