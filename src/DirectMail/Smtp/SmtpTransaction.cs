using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DirectMail.Smtp;

/// <summary>
/// One mail transaction of a session (RFC 5321 section 3.3): [RSET] MAIL FROM, RCPT TO for each recipient, DATA or
/// BDAT, the content, and the reply that decides, with every recipient's own reply in the result.
/// </summary>
/// <remarks>
/// The envelope goes one of two ways. With PIPELINING (RFC 2920) every command of the round trip is written into
/// one buffer and sent in one write, then the replies are read in order (<see cref="PipelinedEnvelopeAsync"/>).
/// Without it, each command waits for its reply (<see cref="LockStepEnvelopeAsync"/>). Either way the content then
/// goes out through its framing (<see cref="DotStuffedDataBody"/> or <see cref="BdatChunkedBody"/>). Failures are
/// typed results; the session's state says afterwards whether the server holds an open transaction. A session has
/// one instance, and one of each body, reset for every message: the result is all a message allocates.
/// </remarks>
internal sealed class SmtpTransaction
{
    private readonly SmtpSession _session;
    private readonly SmtpConnection _connection;
    private readonly SmtpSessionOptions _options;
    private readonly ILogger _logger;
    private DotStuffedDataBody? _dataBody;
    private BdatChunkedBody? _bdatBody;

    // The message being sent: set by RunAsync, cleared when it returns, so that an idle session holds no message.
    private SmtpEnvelope _envelope = null!;
    private SmtpContent _content = null!;
    private SmtpCapabilities _capabilities = SmtpCapabilities.Minimal;
    private SmtpRecipientResult[] _recipients = [];
    private SmtpBodyType _bodyType;
    private long? _length;
    private bool _smtpUtf8;
    private bool _dsn;
    private bool _pipelining;
    private bool _chunking;
    private bool _mailAccepted;
    private int _accepted;
    private SmtpReply? _mailReply;
    private SmtpReply? _dataReply;

    /// <summary>Creates the session's transaction runner; one per session, reused for every message (nothing is allocated per message but its result).</summary>
    public SmtpTransaction(SmtpSession session, SmtpConnection connection, SmtpSessionOptions options, ILogger logger)
    {
        _session = session;
        _connection = connection;
        _options = options;
        _logger = logger;
    }

    private string ServerName => _connection.ServerName;

    /// <summary>Runs one transaction for <paramref name="envelope"/> and <paramref name="content"/>; one at a time (the session sees to it).</summary>
    /// <param name="envelope">The sender and recipients.</param>
    /// <param name="content">The message.</param>
    /// <param name="next">
    /// Where a transaction waiting for this server may be found: once this message's end is sent, the first one
    /// waiting gets its envelope written before this message's reply is read (<see cref="PresendAsync"/>).
    /// </param>
    /// <param name="presented">True when <see cref="PresendAsync"/> already sent this transaction's envelope: its replies are read first.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SmtpTransactionResult> RunAsync(SmtpEnvelope envelope, SmtpContent content, IWaitingTransactionSource? next = null, bool presented = false)
    {
        if (!presented)
        {
            Begin(envelope, content);
        }

        try
        {
            if (!presented && RefuseBeforeSending() is { } refused)
            {
                return refused;
            }

            var ended = presented ? await PipelinedRepliesAsync(resetPending: false).ConfigureAwait(false)
                : _pipelining ? await PipelinedEnvelopeAsync().ConfigureAwait(false)
                : await LockStepEnvelopeAsync().ConfigureAwait(false);
            if (ended is not null)
            {
                return ended;
            }

            // Round trip 2: the content, then the reply that decides. (Awaited here rather than in a method of its
            // own: every async layer that waits for the server is one more state machine per message.) With a
            // transaction waiting for this server, its envelope goes out between the end and that reply.
            _session.MoveTo(SmtpSessionState.InData);
            var body = ReadyBody();
            SmtpReply? finalReply = null;
            if (await body.WriteContentAsync(_content, _capabilities, _session.DataStream).ConfigureAwait(false))
            {
                await body.SendEndAsync().ConfigureAwait(false);
                if (next is not null && _pipelining)
                {
                    await _session.PresendAsync(next).ConfigureAwait(false);
                }

                finalReply = await body.ReadEndReplyAsync().ConfigureAwait(false);
            }

            return MessageEnded(body, finalReply);
        }
        catch (SmtpFailureException e)
        {
            if (e.Failure.Kind == SmtpFailureKind.InvalidContent)
            {
                ApplyToAccepted(Synthetic(554, "5.6.0", e.Failure.Message), delivered: false);
            }

            return Result(SmtpTransactionOutcome.Failed, null, e.Failure);
        }
        finally
        {
            End();
        }
    }

    /// <summary>
    /// Writes the envelope of <paramref name="waiting"/> (MAIL, RCPT..., and DATA unless CHUNKING) behind the end of
    /// the message the session has just sent, whose reply is not read yet: the server has then left that
    /// transaction (RFC 5321 section 4.1.1.4), so no RSET goes first. Its replies are read when the waiting caller
    /// continues (<see cref="RunAsync"/> with presented). Nothing is written, and false returned, when the message
    /// would be refused before sending (it then runs as any other) or the write fails (the message before it then
    /// fails reading its own reply, and this one was never sent).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> PresendAsync(IWaitingTransaction waiting)
    {
        Begin(waiting.Envelope, waiting.Content);
        if (RefuseBeforeSending() is not null || !_pipelining)
        {
            End();
            return false;
        }

        try
        {
            await AppendPipelinedEnvelopeAsync(resetPending: false).ConfigureAwait(false);
            await _connection.FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
            return true;
        }
        catch (SmtpFailureException)
        {
            End();
            return false;
        }
    }

    private void Begin(SmtpEnvelope envelope, SmtpContent content)
    {
        _envelope = envelope;
        _content = content;
        _capabilities = _session.Capabilities;
        _recipients = new SmtpRecipientResult[envelope.Recipients.Count];
        for (var i = 0; i < _recipients.Length; i++)
        {
            _recipients[i] = new SmtpRecipientResult(envelope.Recipients[i], null);
        }

        _bodyType = default;
        _length = null;
        _smtpUtf8 = _pipelining = _chunking = _mailAccepted = _dsn = false;
        _accepted = 0;
        _mailReply = _dataReply = null;
    }

    private void End()
    {
        // The result holds the recipients and the replies; the session keeps no reference to the message.
        _envelope = null!;
        _content = null!;
        _recipients = [];
        _mailReply = _dataReply = null;
    }

    /// <summary>Checks that need nothing from the server but its EHLO; when they fail, nothing is sent.</summary>
    private SmtpTransactionResult? RefuseBeforeSending()
    {
        var capabilities = _capabilities;
        _bodyType = _content.GetBodyType(capabilities);
        _length = _content.GetLength(capabilities);
        var smtpUtf8 = capabilities.Supports(SmtpExtensions.SmtpUtf8);
        if (_bodyType == SmtpBodyType.EightBit && !capabilities.Supports(SmtpExtensions.EightBitMime))
        {
            return Refuse(554, "5.6.3", $"The message holds 8-bit content and {ServerName} does not offer 8BITMIME; it must be sent encoded (quoted-printable or base64).");
        }

        if (_envelope.RequireTls && RequireTlsRefusal(_session.IsPolicyValidated, _session.IsConfiguredRelay, _session.IsRelayValidated, capabilities.Supports(SmtpExtensions.RequireTls), ServerName) is { } requireTls)
        {
            // RFC 8689 section 4.2.1: refused here, before MAIL: another MX (or relay) host may meet it; when none
            // does the recipients fail with this reply.
            return Refuse(550, "5.7.30", requireTls);
        }

        var messageNeedsUtf8 = _envelope.SenderNeedsSmtpUtf8 || _content.RequiresSmtpUtf8;
        if (messageNeedsUtf8 && !smtpUtf8)
        {
            return Refuse(553, "5.6.7", $"The sender address or the headers are UTF-8 and {ServerName} does not offer SMTPUTF8 (RFC 6531).");
        }

        if (_length is { } size && capabilities.MaxMessageSize is { } max && size > max)
        {
            return Refuse(552, "5.3.4", $"The message is {size} octets and {ServerName} takes at most {max} (SIZE).");
        }

        var anyUtf8Recipient = false;
        var sendable = 0;
        for (var i = 0; i < _recipients.Length; i++)
        {
            if (_envelope.RecipientNeedsSmtpUtf8(i))
            {
                anyUtf8Recipient = true;
                if (!smtpUtf8)
                {
                    // RFC 6531 section 3.2: a UTF-8 mailbox cannot be downgraded; this recipient alone fails.
                    _recipients[i].RcptReply = _recipients[i].Reply = Synthetic(553, "5.6.7", $"The address is UTF-8 and {ServerName} does not offer SMTPUTF8 (RFC 6531).");
                    continue;
                }
            }

            sendable++;
        }

        if (sendable == 0)
        {
            return Result(SmtpTransactionOutcome.NoRecipientsAccepted, null, new SmtpFailure(SmtpFailureKind.NotSupportedByServer, SmtpPhase.RcptTo, "No recipient can be sent to this server."));
        }

        _pipelining = _options.UsePipelining && capabilities.Supports(SmtpExtensions.Pipelining);
        _chunking = _options.UseChunking && capabilities.Supports(SmtpExtensions.Chunking);
        _smtpUtf8 = smtpUtf8 && (messageNeedsUtf8 || anyUtf8Recipient);

        // DSN parameters go only to a server that offers DSN (RFC 3461 section 4); to one that does not, they are dropped.
        _dsn = _envelope.HasDsnParameters && _capabilities.Supports(SmtpExtensions.Dsn);
        return null;
    }

    /// <summary>
    /// Why a REQUIRETLS message (RFC 8689 section 4.2.1) may not be sent on this session, or null when it may: only
    /// over TLS that authenticated the next hop, by DANE or MTA-STS for an MX host (<paramref name="policyValidated"/>),
    /// or, for a configured relay, with its certificate validated against the configured host name
    /// (<paramref name="relayValidated"/>: the name is configuration, as trusted as a DNSSEC-signed MX record), and only
    /// to a server that offers REQUIRETLS in its EHLO reply (<paramref name="offersRequireTls"/>).
    /// </summary>
    internal static string? RequireTlsRefusal(bool policyValidated, bool configuredRelay, bool relayValidated, bool offersRequireTls, string serverName)
    {
        if (policyValidated || relayValidated)
        {
            return offersRequireTls ? null : $"REQUIRETLS is set and {serverName} does not offer REQUIRETLS (RFC 8689).";
        }

        return configuredRelay
            ? $"REQUIRETLS is set and the relay {serverName} was not reached over TLS with its certificate validated (RFC 8689)."
            : $"REQUIRETLS is set and {serverName} was not reached over TLS authenticated by DANE or MTA-STS (RFC 8689).";
    }

    /// <summary>
    /// Round trip 1 with PIPELINING: [RSET] MAIL RCPT... [DATA] in one write, then their replies in order.
    /// Returns the result when the transaction ends there; null when the content follows.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpTransactionResult?> PipelinedEnvelopeAsync()
    {
        var resetPending = _session.State == SmtpSessionState.InTransaction;
        await AppendPipelinedEnvelopeAsync(resetPending).ConfigureAwait(false);
        await _connection.FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
        return await PipelinedRepliesAsync(resetPending).ConfigureAwait(false);
    }

    /// <summary>Appends [RSET] MAIL RCPT... [DATA] to the write buffer.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AppendPipelinedEnvelopeAsync(bool resetPending)
    {
        if (resetPending)
        {
            _connection.Phase = SmtpPhase.Other;
            await _connection.AppendCommandAsync("RSET", null).ConfigureAwait(false);
        }

        _connection.Phase = SmtpPhase.MailFrom;
        await AppendMailFromAsync().ConfigureAwait(false);
        for (var i = 0; i < _recipients.Length; i++)
        {
            if (_recipients[i].RcptReply is null)
            {
                await _connection.AppendCommandAsync("RCPT TO:<", _envelope.GetWireRecipient(i), _envelope.GetRcptSuffix(i, _dsn, _smtpUtf8)).ConfigureAwait(false);
            }
        }

        if (!_chunking)
        {
            await _connection.AppendCommandAsync("DATA", null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the replies to a pipelined envelope in order. Returns the result when the transaction ends there; null
    /// when the content follows.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpTransactionResult?> PipelinedRepliesAsync(bool resetPending)
    {
        if (resetPending)
        {
            // A 421 to the pipelined RSET: the server closes, and no reply to MAIL, RCPT or DATA will come.
            var resetReply = await _connection.ReadReplyAsync(_options.Timeouts.Command).ConfigureAwait(false);
            if (resetReply.Code == 421)
            {
                return Closing(resetReply, SmtpPhase.Other, SmtpTransactionOutcome.Failed);
            }
        }

        _connection.Phase = SmtpPhase.MailFrom;
        if (MailReplied(await _connection.ReadReplyAsync(_options.Timeouts.MailFrom).ConfigureAwait(false)) is { } closed)
        {
            return closed;
        }

        _connection.Phase = SmtpPhase.RcptTo;
        for (var i = 0; i < _recipients.Length; i++)
        {
            if (_recipients[i].RcptReply is null && RcptReplied(i, await _connection.ReadReplyAsync(_options.Timeouts.RcptTo).ConfigureAwait(false)) is { } closedAtRcpt)
            {
                return closedAtRcpt;
            }
        }

        if (!_chunking)
        {
            _connection.Phase = SmtpPhase.DataInitiation;
            _dataReply = await _connection.ReadReplyAsync(_options.Timeouts.DataInitiation).ConfigureAwait(false);
            if (_dataReply.Code == 354 && (!_mailAccepted || _accepted == 0))
            {
                // The server is in its DATA state although the transaction cannot go on (RFC 2920 section 3.1
                // requires it to refuse DATA then). No content follows, and whatever is sent next, even RSET or
                // the next transaction's MAIL, would be message text: the connection cannot be used again.
                SmtpSessionLog.DataWithoutTransaction(_logger, ServerName, _dataReply.ToString());
                _connection.Abort();
            }
        }

        return EnvelopeRefused() ?? DataRefused();
    }

    /// <summary>
    /// Round trip 1 without PIPELINING: [RSET], MAIL, each RCPT and DATA, each waiting for its reply.
    /// Returns the result when the transaction ends there; null when the content follows.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpTransactionResult?> LockStepEnvelopeAsync()
    {
        if (_session.State == SmtpSessionState.InTransaction)
        {
            _connection.Phase = SmtpPhase.Other;
            var resetReply = await _connection.CommandAsync("RSET", _options.Timeouts.Command).ConfigureAwait(false);
            if (resetReply.Code == 421)
            {
                return Closing(resetReply, SmtpPhase.Other, SmtpTransactionOutcome.Failed);
            }
        }

        _connection.Phase = SmtpPhase.MailFrom;
        await AppendMailFromAsync().ConfigureAwait(false);
        await _connection.FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
        if (MailReplied(await _connection.ReadReplyAsync(_options.Timeouts.MailFrom).ConfigureAwait(false)) is { } closed)
        {
            return closed;
        }

        _connection.Phase = SmtpPhase.RcptTo;
        for (var i = 0; i < _recipients.Length && _mailAccepted; i++)
        {
            if (_recipients[i].RcptReply is not null)
            {
                continue;
            }

            await _connection.AppendCommandAsync("RCPT TO:<", _envelope.GetWireRecipient(i), _envelope.GetRcptSuffix(i, _dsn, _smtpUtf8)).ConfigureAwait(false);
            await _connection.FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
            if (RcptReplied(i, await _connection.ReadReplyAsync(_options.Timeouts.RcptTo).ConfigureAwait(false)) is { } closedAtRcpt)
            {
                return closedAtRcpt;
            }
        }

        if (EnvelopeRefused() is { } refused)
        {
            return refused;
        }

        if (!_chunking)
        {
            _connection.Phase = SmtpPhase.DataInitiation;
            await _connection.AppendCommandAsync("DATA", null).ConfigureAwait(false);
            await _connection.FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
            _dataReply = await _connection.ReadReplyAsync(_options.Timeouts.DataInitiation).ConfigureAwait(false);
        }

        return DataRefused();
    }

    /// <summary>The framing of this message: the session's DATA or BDAT body, made ready for it.</summary>
    private SmtpMessageBody ReadyBody()
    {
        var sevenBitOnly = _bodyType == SmtpBodyType.SevenBit;
        return _chunking
            ? (_bdatBody ??= new BdatChunkedBody(_connection, _options, _logger)).Reset(sevenBitOnly, repliesPipelined: _pipelining)
            : (_dataBody ??= new DotStuffedDataBody(_connection, _options, _logger)).Reset(sevenBitOnly);
    }

    /// <summary>The result once the content was sent: <paramref name="finalReply"/> is the reply after its end, null when a refused chunk stopped it.</summary>
    private SmtpTransactionResult MessageEnded(SmtpMessageBody body, SmtpReply? finalReply)
    {
        var refused = body.RefusedChunkReply;
        _dataReply ??= refused;
        if (refused is { Code: 421 })
        {
            // 421 to a BDAT before the last: the server closes; no further reply comes (RFC 5321 section 3.8).
            return Closing(refused, SmtpPhase.Content, SmtpTransactionOutcome.MessageRejected);
        }

        if (finalReply is null)
        {
            // Without PIPELINING, the first refused chunk ended the content (RFC 3030 section 2): its reply
            // decides for every accepted recipient, and the transaction is reset before the next one. (A 421
            // to a later pipelined chunk closed the session: the failure carries it, for the host's backoff.)
            _session.MoveTo(SmtpSessionState.InTransaction);
            ApplyToAccepted(refused!, delivered: false);
            return Result(SmtpTransactionOutcome.MessageRejected, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Content, $"{ServerName} refused a chunk of the message.", body.ClosingChunkReply ?? refused));
        }

        _session.MoveTo(SmtpSessionState.Ready);
        CheckClosing(finalReply);
        if (finalReply.IsPositiveCompletion && refused is null)
        {
            ApplyToAccepted(finalReply, delivered: true);
            return Result(SmtpTransactionOutcome.Delivered, finalReply, null);
        }

        var decisive = refused ?? finalReply;
        ApplyToAccepted(decisive, delivered: false);
        return Result(SmtpTransactionOutcome.MessageRejected, finalReply, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.DataTermination, $"{ServerName} refused the message.", decisive));
    }

    /// <summary>Takes the reply to MAIL FROM; returns the result when it is a 421.</summary>
    private SmtpTransactionResult? MailReplied(SmtpReply reply)
    {
        _mailReply = reply;
        _mailAccepted = _mailReply.IsPositiveCompletion;

        // Once MAIL is accepted the server holds the transaction until the end of the message or RSET.
        _session.MoveTo(_mailAccepted ? SmtpSessionState.InTransaction : SmtpSessionState.Ready);

        // The server is closing: no further reply will come, pipelined or not.
        return _mailReply.Code == 421 ? Closing(_mailReply, SmtpPhase.MailFrom, SmtpTransactionOutcome.SenderRejected) : null;
    }

    /// <summary>Takes the reply to one RCPT TO; returns the result when it is a 421.</summary>
    private SmtpTransactionResult? RcptReplied(int index, SmtpReply reply)
    {
        _recipients[index].RcptReply = _recipients[index].Reply = reply;
        _accepted += reply.IsPositiveCompletion ? 1 : 0;
        return reply.Code == 421 ? Closing(reply, SmtpPhase.RcptTo, SmtpTransactionOutcome.Failed) : null;
    }

    /// <summary>The result when the sender or every recipient was refused; null when the transaction goes on.</summary>
    private SmtpTransactionResult? EnvelopeRefused()
    {
        if (!_mailAccepted)
        {
            foreach (var r in _recipients)
            {
                if (r.RcptReply is not { IsSynthetic: true })
                {
                    r.Reply = _mailReply;
                }
            }

            return Result(SmtpTransactionOutcome.SenderRejected, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.MailFrom, $"{ServerName} refused the sender.", _mailReply));
        }

        if (_accepted == 0)
        {
            return Result(SmtpTransactionOutcome.NoRecipientsAccepted, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.RcptTo, $"{ServerName} accepted none of the recipients.", FirstRejection()));
        }

        return null;
    }

    /// <summary>The result when DATA was not answered with 354; null when the content follows (always, for BDAT).</summary>
    private SmtpTransactionResult? DataRefused()
    {
        if (_chunking || _dataReply!.Code == 354)
        {
            return null;
        }

        CheckClosing(_dataReply);
        ApplyToAccepted(_dataReply, delivered: false);
        return Result(SmtpTransactionOutcome.DataRejected, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.DataInitiation, $"{ServerName} refused DATA.", _dataReply));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AppendMailFromAsync()
    {
        var connection = _connection;
        if (connection.WriteBuffer.Length - connection.WriteLength < 1024)
        {
            await connection.FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
        }

        var start = connection.WriteLength;
        connection.AppendCommand("MAIL FROM:<", _envelope.WireSender, ">", log: false);

        // The parameters go on the same line, before its CRLF (RFC 1870, RFC 6152, RFC 6531).
        connection.WriteLength -= 2;
        var span = connection.WriteBuffer.AsSpan(connection.WriteLength);
        var written = 0;
        if (_length is { } size && _capabilities.Supports(SmtpExtensions.Size))
        {
            " SIZE="u8.CopyTo(span);
            written += 6;
            size.TryFormat(span[written..], out var digits, default, CultureInfo.InvariantCulture);
            written += digits;
        }

        if (_bodyType == SmtpBodyType.EightBit)
        {
            " BODY=8BITMIME"u8.CopyTo(span[written..]);
            written += 14;
        }

        if (_smtpUtf8)
        {
            " SMTPUTF8"u8.CopyTo(span[written..]);
            written += 9;
        }

        if (_envelope.RequireTls)
        {
            " REQUIRETLS"u8.CopyTo(span[written..]);
            written += 11;
        }

        if (_dsn)
        {
            if (_envelope.DsnReturn is { } ret)
            {
                // RFC 8689 section 4.2.1 (and issue 16): under REQUIRETLS the content is not returned in a notice.
                (ret == DsnReturn.Full && !_envelope.RequireTls ? " RET=FULL"u8 : " RET=HDRS"u8).CopyTo(span[written..]);
                written += 9;
            }

            if (_envelope.WireEnvelopeId is { } envelopeId)
            {
                " ENVID="u8.CopyTo(span[written..]);
                written += 7;
                written += Encoding.ASCII.GetBytes(envelopeId, span[written..]);
            }
        }

        "\r\n"u8.CopyTo(span[written..]);
        connection.WriteLength += written + 2;
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, Encoding.UTF8.GetString(connection.WriteBuffer.AsSpan(start, connection.WriteLength - start - 2)));
        }
    }

    private void CheckClosing(SmtpReply reply)
    {
        // 421: the service is closing the transmission channel (RFC 5321 section 3.8).
        if (reply.Code == 421)
        {
            _connection.Abort();
        }
    }

    /// <summary>The result of the transaction, built once at its end (and logged at Debug).</summary>
    private SmtpTransactionResult Result(SmtpTransactionOutcome outcome, SmtpReply? finalReply, SmtpFailure? failure)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var accepted = 0;
            foreach (var r in _recipients)
            {
                accepted += r.IsAccepted ? 1 : 0;
            }

            SmtpSessionLog.TransactionEnded(_logger, ServerName, outcome, accepted, _recipients.Length);
        }

        return new(outcome, _recipients, _mailReply, _dataReply, finalReply, failure) { DsnOffered = _capabilities.Supports(SmtpExtensions.Dsn) };
    }

    private static SmtpReply Synthetic(int code, string enhanced, string text) => new(code, [enhanced + " " + text], isSynthetic: true);

    private SmtpTransactionResult Refuse(int code, string enhanced, string text)
    {
        var reply = Synthetic(code, enhanced, text);
        foreach (var r in _recipients)
        {
            r.RcptReply = r.Reply = reply;
        }

        return Result(SmtpTransactionOutcome.Failed, null, new SmtpFailure(SmtpFailureKind.NotSupportedByServer, SmtpPhase.MailFrom, text, reply));
    }

    private void ApplyToAccepted(SmtpReply reply, bool delivered)
    {
        foreach (var r in _recipients)
        {
            if (r.IsAccepted)
            {
                r.Reply = reply;
                r.IsDelivered = delivered;
            }
        }
    }

    private SmtpTransactionResult Closing(SmtpReply closing, SmtpPhase phase, SmtpTransactionOutcome outcome)
    {
        // 421 (RFC 5321 section 3.8): the server ends the session. Every recipient not yet refused shares that reply.
        _connection.Abort();
        foreach (var r in _recipients)
        {
            if (r.RcptReply is null || r.IsAccepted)
            {
                r.Reply = closing;
                r.IsDelivered = false;
            }
        }

        return Result(outcome, null, new SmtpFailure(SmtpFailureKind.Rejected, phase, $"{ServerName} is closing the connection.", closing));
    }

    private SmtpReply? FirstRejection()
    {
        foreach (var r in _recipients)
        {
            if (r.RcptReply is { IsPositiveCompletion: false })
            {
                return r.RcptReply;
            }
        }

        return null;
    }
}
