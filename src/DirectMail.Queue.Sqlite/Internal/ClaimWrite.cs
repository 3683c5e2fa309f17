using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Queue.Sqlite.Internal;

/// <summary>
/// Claims due messages, oldest due first, on the writer connection so that two claimers never take the same message.
/// Each message found is read and checked whole before it is handed out: recipients left InFlight by a claim whose
/// lease expired become InDoubt, the fence moves on, and a message that cannot be read is quarantined instead.
/// </summary>
internal sealed class ClaimWrite : SqliteWrite<IReadOnlyList<QueueClaim>>
{
    // The due scan walks recipients_due in due order and stops as soon as it has enough messages: a million rows due
    // later cost nothing. InFlight rows are in the index with their lease's end, so an expired lease is found too.
    private const string DueScan =
        "SELECT r.message_id FROM recipients r LEFT JOIN messages m ON m.id = r.message_id " +
        "WHERE r.next_attempt_at IS NOT NULL AND r.next_attempt_at <= $now AND (m.lease_until IS NULL OR m.lease_until <= $now) " +
        "ORDER BY r.next_attempt_at";

    private readonly DateTimeOffset _now;
    private readonly int _maxMessages;
    private readonly TimeSpan _lease;
    private readonly List<(string MessageId, string Reason)> _quarantined = [];
    private readonly List<(string MessageId, int Recipients)> _inDoubt = [];
    private ILogger _logger = NullLogger.Instance;

    public ClaimWrite(DateTimeOffset now, int maxMessages, TimeSpan lease, CancellationToken cancellationToken)
        : base(cancellationToken)
    {
        _now = now;
        _maxMessages = maxMessages;
        _lease = lease;
    }

    /// <summary>Logs what the claim quarantined or put in doubt: only now, once it is committed, is it true.</summary>
    public override void Succeed()
    {
        foreach (var (messageId, reason) in _quarantined)
        {
            SqliteQueueLog.Quarantined(_logger, messageId, reason);
        }

        foreach (var (messageId, recipients) in _inDoubt)
        {
            SqliteQueueLog.InFlightInDoubt(_logger, messageId, recipients);
        }

        base.Succeed();
    }

    protected override ValueTask<IReadOnlyList<QueueClaim>> ExecuteCoreAsync(SqliteWriteContext context)
    {
        _logger = context.Logger;
        var claims = new List<QueueClaim>();
        var candidates = new List<string>();
        // Messages looked at and not claimed (quarantined, or only in-doubt recipients) leave the due set, so a new
        // scan finds new ones; the bound only guards against a row the checks cannot move out of the due set.
        for (var round = 0; round < 8 && claims.Count < _maxMessages; round++)
        {
            var exhausted = FindCandidates(context, _maxMessages - claims.Count + 8, candidates);
            foreach (var messageId in candidates)
            {
                if (claims.Count == _maxMessages)
                {
                    break;
                }

                if (ClaimOne(context, messageId) is { } claim)
                {
                    claims.Add(claim);
                }
            }

            if (exhausted)
            {
                break;
            }
        }

        return new ValueTask<IReadOnlyList<QueueClaim>>(claims);
    }

    private bool FindCandidates(SqliteWriteContext context, int limit, List<string> candidates)
    {
        candidates.Clear();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var scan = context.Command(DueScan);
        scan.Parameters.AddWithValue("$now", _now.UtcTicks);
        using var reader = scan.ExecuteReader();
        while (reader.Read())
        {
            var messageId = reader.GetString(0);
            if (seen.Add(messageId))
            {
                candidates.Add(messageId);
                if (candidates.Count == limit)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private QueueClaim? ClaimOne(SqliteWriteContext context, string messageId)
    {
        string? problem;
        QueueClaim? claim = null;
        try
        {
            problem = TryClaim(context, messageId, out claim);
        }
        catch (Exception exception) when (exception is not SqliteException { SqliteErrorCode: 5 or 6 or 7 or 8 or 9 or 10 or 13 or 14 })
        {
            // Anything but the database being unavailable (busy, locked, out of memory, read-only, interrupted, an I/O
            // error, a full disk, cannot open: these fail the claim rather than quarantine good mail) means the rows
            // themselves cannot be read as a message.
            problem = "the entry cannot be read: " + exception.Message;
        }

        if (problem is not null)
        {
            context.Quarantine(messageId, _now, problem);
            _quarantined.Add((messageId, problem));
            return null;
        }

        return claim;
    }

    /// <returns>Null when the message was claimed or only swept; otherwise why it must be quarantined.</returns>
    private string? TryClaim(SqliteWriteContext context, string messageId, out QueueClaim? claim)
    {
        claim = null;
        var message = context.Command(
            "SELECT sender, body_type, smtputf8, enqueued_at, expires_at, size, dsn_ret, dsn_envid, require_tls, tls_required_no FROM messages WHERE id = $id");
        message.Parameters.AddWithValue("$id", messageId);
        string sender;
        int bodyType;
        bool smtpUtf8;
        long enqueuedAt, expiresAt, size;
        DsnReturn? dsnReturn = null;
        string? envelopeId;
        bool requireTls;
        bool tlsRequiredNo;
        using (var reader = message.ExecuteReader())
        {
            if (!reader.Read())
            {
                return "its recipients have no message row";
            }

            var wrongType = WrongType(reader, "sender", 0, typeof(string)) ?? WrongType(reader, "body_type", 1, typeof(long)) ??
                WrongType(reader, "smtputf8", 2, typeof(long)) ?? WrongType(reader, "enqueued_at", 3, typeof(long)) ??
                WrongType(reader, "expires_at", 4, typeof(long)) ?? WrongType(reader, "size", 5, typeof(long));
            if (wrongType is not null)
            {
                return wrongType;
            }

            sender = reader.GetString(0);
            bodyType = reader.GetInt32(1);
            smtpUtf8 = reader.GetInt64(2) != 0;
            enqueuedAt = reader.GetInt64(3);
            expiresAt = reader.GetInt64(4);
            size = reader.GetInt64(5);
            if (!reader.IsDBNull(6))
            {
                if (reader.GetFieldType(6) != typeof(long) || SqliteSchema.ToReturn(reader.GetInt64(6)) is not { } ret)
                {
                    return "messages.dsn_ret holds a value that is not a DSN RET";
                }

                dsnReturn = ret;
            }

            envelopeId = reader.IsDBNull(7) ? null : reader.GetString(7);
            if (reader.GetFieldType(8) != typeof(long) || reader.GetInt64(8) is not (0 or 1))
            {
                // Read as "no REQUIRETLS" it would send where the sender forbade it: quarantined instead.
                return "messages.require_tls holds a value that is not 0 or 1";
            }

            requireTls = reader.GetInt64(8) == 1;

            // Only 1 skips the recipient's MTA-STS and DANE policy: anything else applies it (stricter, never looser).
            tlsRequiredNo = reader.GetFieldType(9) == typeof(long) && reader.GetInt64(9) == 1;
        }

        if (bodyType is not ((int)SmtpBodyType.SevenBit or (int)SmtpBodyType.EightBit))
        {
            return string.Create(CultureInfo.InvariantCulture, $"body type value {bodyType} is not one this store writes");
        }

        var due = new List<QueueClaimedRecipient>();
        var inFlight = 0;
        var recipients = context.Command(
            "SELECT idx, address, state, next_attempt_at, attempts, dsn_notify, dsn_orcpt FROM recipients WHERE message_id = $id ORDER BY idx");
        recipients.Parameters.AddWithValue("$id", messageId);
        using (var reader = recipients.ExecuteReader())
        {
            while (reader.Read())
            {
                var index = reader.GetInt32(0);
                var state = reader.GetInt64(2);
                if (state is < 0 or > SqliteSchema.MaxState)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"recipient {index} has state value {state}, which is not a recipient state");
                }

                var address = reader.GetString(1);
                if (address.Length == 0)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"recipient {index} has no address");
                }

                var recipientState = (QueueRecipientState)state;
                if (reader.IsDBNull(3))
                {
                    continue;
                }

                var next = reader.GetInt64(3);
                switch (recipientState)
                {
                    case QueueRecipientState.Queued or QueueRecipientState.Deferred:
                        if (next <= _now.UtcTicks)
                        {
                            if (SqliteSchema.ToNotify(reader.GetInt64(5)) is not { } notify)
                            {
                                return string.Create(CultureInfo.InvariantCulture, $"recipient {index} has DSN NOTIFY value {reader.GetInt64(5)}, which is not one");
                            }

                            due.Add(new QueueClaimedRecipient(index, address, reader.GetInt32(4))
                            {
                                Notify = notify,
                                OriginalRecipient = reader.IsDBNull(6) ? null : reader.GetString(6),
                            });
                        }

                        break;
                    case QueueRecipientState.InFlight:
                        inFlight++;
                        break;
                    default:
                        return string.Create(CultureInfo.InvariantCulture, $"recipient {index} is {recipientState} but has a due time");
                }
            }
        }

        if (due.Count > 0 && CheckContent(context, messageId, size) is { } contentProblem)
        {
            return contentProblem;
        }

        if (inFlight > 0)
        {
            // Whoever marked them is gone (its lease expired): the end of the message may have reached the server, so
            // they are not tried again unless an operator releases them.
            var sweep = context.Command(SqliteSchema.InFlightToInDoubt);
            sweep.Parameters.AddWithValue("$id", messageId);
            sweep.ExecuteNonQuery();
            _inDoubt.Add((messageId, inFlight));
        }

        // The fence moves on even when nothing is claimed, so the expired claim's late writes are refused.
        var leaseUntil = _now + _lease;
        var take = context.Command("UPDATE messages SET fence = fence + 1, lease_until = $until WHERE id = $id RETURNING fence");
        take.Parameters.AddWithValue("$id", messageId);
        take.Parameters.AddWithValue("$until", due.Count > 0 ? leaseUntil.UtcTicks : DBNull.Value);
        var fence = (long)take.ExecuteScalar()!;
        if (due.Count > 0)
        {
            claim = new QueueClaim(messageId, fence, leaseUntil, sender, (SmtpBodyType)bodyType, smtpUtf8,
                SqliteSchema.ToTime(enqueuedAt), SqliteSchema.ToTime(expiresAt), due)
            {
                DsnReturn = dsnReturn,
                DsnEnvelopeId = envelopeId,
                RequireTls = requireTls,
                IgnoreRecipientTlsPolicy = tlsRequiredNo,
            };
        }

        return null;
    }

    /// <summary>SQLite keeps whatever a column is given: a time stored as text would read as tick 0, not fail.</summary>
    private static string? WrongType(SqliteDataReader reader, string column, int ordinal, Type expected)
    {
        var actual = reader.GetFieldType(ordinal);
        return actual == expected ? null : $"messages.{column} holds {(reader.IsDBNull(ordinal) ? "NULL" : actual.Name)} where {expected.Name} belongs";
    }

    private static string? CheckContent(SqliteWriteContext context, string messageId, long size)
    {
        // length() of a blob reads its header only, not its pages: checking a 50 MB message is cheap.
        var content = context.Command(
            "SELECT count(*), coalesce(sum(length(data)), 0), coalesce(max(part), -1) FROM content WHERE message_id = $id");
        content.Parameters.AddWithValue("$id", messageId);
        using var reader = content.ExecuteReader();
        reader.Read();
        var parts = reader.GetInt64(0);
        var length = reader.GetInt64(1);
        var lastPart = reader.GetInt64(2);
        if (parts == 0)
        {
            return "its content is missing";
        }

        if (lastPart != parts - 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"content parts are missing ({parts} of {lastPart + 1})");
        }

        if (length != size)
        {
            return string.Create(CultureInfo.InvariantCulture, $"its content is {length} octets where {size} were stored (truncated)");
        }

        return null;
    }
}
