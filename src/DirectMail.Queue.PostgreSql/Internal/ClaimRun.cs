using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DirectMail.Queue.PostgreSql.Internal;

/// <summary>
/// One <see cref="IMailQueueStore.ClaimDueAsync"/> in one transaction: the messages next due are locked with
/// <c>FOR UPDATE SKIP LOCKED</c> (so claimers on any number of instances never wait on each other nor take the same
/// message), their recipients left InFlight by an expired lease become InDoubt, each is read and checked whole, and
/// then it is claimed (fence + 1, lease), passed over (nothing of it due: the fence still moves on, fencing off the
/// dead claim), or quarantined (it cannot be read as a message). Three round trips a round, whatever the batch size.
/// </summary>
internal sealed class ClaimRun
{
    private readonly QueueSql _sql;
    private readonly DateTimeOffset _now;
    private readonly int _maxMessages;
    private readonly DateTimeOffset _leaseUntil;
    private readonly List<(string MessageId, string Reason)> _quarantined = [];
    private readonly List<(string MessageId, int Recipients)> _inDoubt = [];

    public ClaimRun(QueueSql sql, DateTimeOffset now, int maxMessages, TimeSpan lease)
    {
        _sql = sql;
        _now = now;
        _maxMessages = maxMessages;
        _leaseUntil = now + lease;
    }

    public async Task<IReadOnlyList<QueueClaim>> RunAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        var claims = new List<QueueClaim>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            // A message looked at and not claimed leaves the due index (or moves on in it), so the next round finds
            // others; the bound guards against a row the checks cannot move.
            for (var round = 0; round < 4 && claims.Count < _maxMessages; round++)
            {
                var wanted = _maxMessages - claims.Count;
                var candidates = await FindCandidatesAsync(connection, transaction, wanted, cancellationToken).ConfigureAwait(false);
                if (candidates.Length > 0)
                {
                    await ClaimAsync(connection, transaction, candidates, claims, cancellationToken).ConfigureAwait(false);
                }

                if (candidates.Length < wanted)
                {
                    break;
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        // Only now, committed, is it true.
        foreach (var (messageId, reason) in _quarantined)
        {
            PostgreSqlQueueLog.Quarantined(logger, messageId, reason);
        }

        foreach (var (messageId, recipients) in _inDoubt)
        {
            PostgreSqlQueueLog.InFlightInDoubt(logger, messageId, recipients);
        }

        return claims;
    }

    private async Task<string[]> FindCandidatesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int limit, CancellationToken cancellationToken)
    {
        await using var command = Sql.Command(connection, transaction, _sql.ClaimCandidates);
        command.Parameters.AddTime(_now);
        command.Parameters.AddValue(limit);
        var ids = new List<string>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids.ToArray();
    }

    private async Task ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] ids, List<QueueClaim> claims, CancellationToken cancellationToken)
    {
        var messages = new Dictionary<string, Candidate>(ids.Length, StringComparer.Ordinal);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            Sql.BatchCommand(batch, _sql.ClaimInFlightToInDoubt).Parameters.AddValue(ids);
            Sql.BatchCommand(batch, _sql.ClaimReadMessages).Parameters.AddValue(ids);
            Sql.BatchCommand(batch, _sql.ClaimReadRecipients).Parameters.AddValue(ids);
            Sql.BatchCommand(batch, _sql.ClaimReadContent).Parameters.AddValue(ids);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var inDoubt = new Dictionary<string, int>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetString(0);
                inDoubt[id] = inDoubt.GetValueOrDefault(id) + 1;
            }

            foreach (var (id, count) in inDoubt)
            {
                _inDoubt.Add((id, count));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var candidate = new Candidate(reader.GetString(0), reader.GetString(1), reader.GetInt16(2), reader.GetBoolean(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetInt64(6))
                {
                    DsnEnvelopeId = reader.IsDBNull(8) ? null : reader.GetString(8),
                    RequireTls = reader.GetBoolean(9),
                    TlsRequiredNo = reader.GetBoolean(10),
                };
                if (!reader.IsDBNull(7))
                {
                    var ret = reader.GetInt16(7);
                    if (ret is (short)DsnReturn.Full or (short)DsnReturn.Headers)
                    {
                        candidate.DsnReturn = (DsnReturn)ret;
                    }
                    else
                    {
                        candidate.Problem = string.Create(CultureInfo.InvariantCulture, $"DSN RET value {ret} is not one this store writes");
                    }
                }

                messages.Add(candidate.Id, candidate);
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var candidate = messages[reader.GetString(0)];
                if (candidate.Problem is not null)
                {
                    continue;
                }

                var index = reader.GetInt32(1);
                var address = reader.GetString(2);
                var state = reader.GetInt16(3);
                if (state is < 0 or > (short)QueueRecipientState.InDoubt)
                {
                    candidate.Problem = string.Create(CultureInfo.InvariantCulture, $"recipient {index} has state value {state}, which is not a recipient state");
                }
                else if (address.Length == 0)
                {
                    candidate.Problem = string.Create(CultureInfo.InvariantCulture, $"recipient {index} has no address");
                }
                else if ((QueueRecipientState)state is QueueRecipientState.Queued or QueueRecipientState.Deferred)
                {
                    if (reader.IsDBNull(4))
                    {
                        candidate.Problem = string.Create(CultureInfo.InvariantCulture, $"recipient {index} is {(QueueRecipientState)state} but has no due time");
                    }
                    else if (reader.GetFieldValue<DateTimeOffset>(4) <= _now)
                    {
                        var notify = reader.GetInt16(6);
                        if (notify is < 0 or > 15 || ((notify & 1) != 0 && notify != 1))
                        {
                            candidate.Problem = string.Create(CultureInfo.InvariantCulture, $"recipient {index} has DSN NOTIFY value {notify}, which is not one");
                        }
                        else
                        {
                            candidate.Due.Add(new QueueClaimedRecipient(index, address, reader.GetInt32(5))
                            {
                                Notify = (DsnNotify)notify,
                                OriginalRecipient = reader.IsDBNull(7) ? null : reader.GetString(7),
                            });
                        }
                    }
                }
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var candidate = messages[reader.GetString(0)];
                candidate.Parts = reader.GetInt64(1);
                candidate.Length = reader.GetInt64(2);
                candidate.LastPart = reader.GetInt32(3);
            }
        }

        var take = new List<string>();
        var pass = new List<string>();
        var quarantineIds = new List<string>();
        var quarantineReasons = new List<string>();
        foreach (var id in ids)
        {
            var candidate = messages[id];
            var problem = candidate.Problem ?? candidate.CheckEnvelope() ?? (candidate.Due.Count > 0 ? candidate.CheckContent() : null);
            if (problem is not null)
            {
                quarantineIds.Add(id);
                quarantineReasons.Add(problem);
                _quarantined.Add((id, problem));
            }
            else if (candidate.Due.Count > 0)
            {
                take.Add(id);
            }
            else
            {
                pass.Add(id);
            }
        }

        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (quarantineIds.Count > 0)
            {
                var attempts = Sql.BatchCommand(batch, _sql.QuarantineAttempts).Parameters;
                attempts.AddValue(quarantineIds.ToArray());
                attempts.AddValue(quarantineReasons.ToArray());
                attempts.AddTime(_now);
                Sql.BatchCommand(batch, _sql.QuarantineRecipients).Parameters.AddValue(quarantineIds.ToArray());
                Sql.BatchCommand(batch, _sql.QuarantineMessages).Parameters.AddValue(quarantineIds.ToArray());
            }

            if (pass.Count > 0)
            {
                Sql.BatchCommand(batch, _sql.ClaimPass).Parameters.AddValue(pass.ToArray());
            }

            if (take.Count > 0)
            {
                var claim = Sql.BatchCommand(batch, _sql.ClaimTake).Parameters;
                claim.AddValue(take.ToArray());
                claim.AddTime(_leaseUntil);
            }

            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var fences = new Dictionary<string, long>(StringComparer.Ordinal);
            do
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    fences[reader.GetString(0)] = reader.GetInt64(1);
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

            foreach (var id in take)
            {
                var candidate = messages[id];
                claims.Add(new QueueClaim(id, fences[id], _leaseUntil, candidate.Sender, (SmtpBodyType)candidate.BodyType, candidate.SmtpUtf8,
                    candidate.EnqueuedAt, candidate.ExpiresAt, candidate.Due)
                {
                    DsnReturn = candidate.DsnReturn,
                    DsnEnvelopeId = candidate.DsnEnvelopeId,
                    RequireTls = candidate.RequireTls,
                    IgnoreRecipientTlsPolicy = candidate.TlsRequiredNo,
                });
            }
        }
    }

    /// <summary>A message the claim looks at, as read.</summary>
    private sealed class Candidate(string id, string sender, short bodyType, bool smtpUtf8, DateTimeOffset enqueuedAt, DateTimeOffset expiresAt, long size)
    {
        public string Id { get; } = id;

        public string Sender { get; } = sender;

        public short BodyType { get; } = bodyType;

        public bool SmtpUtf8 { get; } = smtpUtf8;

        public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public List<QueueClaimedRecipient> Due { get; } = [];

        public DsnReturn? DsnReturn { get; set; }

        public string? DsnEnvelopeId { get; init; }

        public bool RequireTls { get; init; }

        public bool TlsRequiredNo { get; init; }

        public string? Problem { get; set; }

        public long Parts { get; set; }

        public long Length { get; set; }

        public int LastPart { get; set; } = -1;

        public string? CheckEnvelope()
            => BodyType is (short)SmtpBodyType.SevenBit or (short)SmtpBodyType.EightBit
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"body type value {BodyType} is not one this store writes");

        public string? CheckContent()
        {
            if (Parts == 0)
            {
                return "its content is missing";
            }

            if (LastPart != Parts - 1)
            {
                return string.Create(CultureInfo.InvariantCulture, $"content parts are missing ({Parts} of {LastPart + 1})");
            }

            return Length == size ? null : string.Create(CultureInfo.InvariantCulture, $"its content is {Length} octets where {size} were stored (truncated)");
        }
    }
}
