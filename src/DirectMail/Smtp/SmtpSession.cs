using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Smtp;

/// <summary>
/// One SMTP client connection (RFC 5321): connect, greeting, EHLO (HELO fallback), STARTTLS, then any number of
/// mail transactions, each with a reply for every recipient, and QUIT.
/// </summary>
/// <remarks>
/// <para>
/// This file is the state machine. A session is <c>New</c>, then <c>Ready</c> after <see cref="ConnectAsync"/>
/// succeeded, and <c>Closed</c> for good after QUIT, a 421, an I/O error, a timeout, a protocol violation or
/// cancellation: <see cref="IsUsable"/> says which. A failure is a typed result, never an exception; exceptions are
/// for invalid arguments, misuse (two operations at once) and cancellation, which closes the connection.
/// </para>
/// <para>
/// Commands of one round trip are written into one buffer and sent in one write: with PIPELINING (RFC 2920) that
/// is RSET when needed, MAIL, every RCPT and DATA. Content is streamed through the same buffer, never held whole.
/// A session is not thread-safe; use one per concurrent conversation.
/// </para>
/// </remarks>
public sealed class SmtpSession : IAsyncDisposable
{
    private const int BdatHeaderReserve = 32;
    private const int WriteBufferSize = 64 * 1024;
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly SmtpSessionOptions _options;
    private readonly ILogger _logger;
    private readonly SmtpReplyParser _parser;
    private readonly SmtpDataStream _dataStream;
    private CancellationTokenSource _timeout = new();
    private CancellationTokenRegistration _cancellationRegistration;
    private byte[] _readBuffer;
    private int _readStart;
    private int _readEnd;
    private byte[] _writeBuffer;
    private int _writeLength;
    private Socket? _socket;
    private Stream? _stream;
    private SslStream? _tls;
    private State _state;
    private int _busy;
    private bool _needsReset;
    private SmtpSessionScope? _scope;

    // Per transaction, while content is written.
    private SmtpDataEncoder _encoder;
    private bool _chunking;
    private bool _chunkRepliesPipelined;
    private int _pendingChunkReplies;
    private SmtpReply? _firstFailedChunkReply;
    private SmtpReply? _closingChunkReply;
    private long _contentOctets;
    private SmtpPhase _phase;
    private CancellationToken _operationToken;

    private enum State
    {
        New,
        Ready,
        Closed,
    }

    /// <summary>Creates a session; nothing is connected until <see cref="ConnectAsync"/>.</summary>
    /// <param name="options">The settings; they are checked now and copied, so later changes do not affect this session.</param>
    /// <param name="logger">Receives the transcript at Trace level and events at Debug and above; null for none.</param>
    /// <exception cref="ArgumentException">A setting is invalid (for example, the EHLO name).</exception>
    public SmtpSession(SmtpSessionOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = Copy(options);
        _logger = logger ?? NullLogger.Instance;
        _parser = new SmtpReplyParser(options.MaxReplyLineLength, options.MaxReplyLines, options.MaxReplyBytes);
        _dataStream = new SmtpDataStream(this);
        _readBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(8192, options.MaxReplyLineLength * 2));
        _writeBuffer = ArrayPool<byte>.Shared.Rent(WriteBufferSize);
    }

    /// <summary>The server's greeting, once read.</summary>
    public SmtpReply? Greeting { get; private set; }

    /// <summary>What the server announced in its last EHLO reply (after STARTTLS, the encrypted one).</summary>
    public SmtpCapabilities Capabilities { get; private set; } = SmtpCapabilities.Minimal;

    /// <summary>True while the session can run transactions.</summary>
    public bool IsUsable => _state == State.Ready;

    /// <summary>True when the connection is protected by TLS.</summary>
    public bool IsEncrypted => _tls is not null && _tls.IsAuthenticated;

    /// <summary>The TLS version in use, when encrypted.</summary>
    public SslProtocols? TlsProtocol => IsEncrypted ? _tls!.SslProtocol : null;

    /// <summary>The address connected to.</summary>
    public IPEndPoint? RemoteEndPoint { get; private set; }

    /// <summary>The local address the connection comes from.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The server's host name as given to <see cref="ConnectAsync"/> (the MX host), or its address.</summary>
    public string ServerName { get; private set; } = string.Empty;

    /// <summary>
    /// Connects, reads the greeting, says EHLO (HELO when EHLO is not understood) and, by <see cref="SmtpSessionOptions.TlsMode"/>,
    /// upgrades to TLS and says EHLO again.
    /// </summary>
    /// <param name="endPoint">The server's address and port (25 for MX hosts).</param>
    /// <param name="serverName">The host name the address belongs to (the MX host name): used to validate the certificate and in logs.</param>
    /// <param name="cancellationToken">Cancels the connection; the socket is closed and <see cref="OperationCanceledException"/> thrown.</param>
    /// <returns>Success, or the typed reason the session is not usable: refused, timed out, rejected greeting, TLS failure...</returns>
    public async ValueTask<SmtpConnectResult> ConnectAsync(IPEndPoint endPoint, string? serverName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (_state != State.New)
        {
            throw new InvalidOperationException("A session connects once; create a new session for another connection.");
        }

        Enter(cancellationToken);
        ServerName = string.IsNullOrEmpty(serverName) ? endPoint.Address.ToString() : serverName;
        RemoteEndPoint = endPoint;
        _scope = new SmtpSessionScope(ServerName, endPoint);
        using var scope = _logger.BeginScope(_scope);
        try
        {
            await OpenSocketAsync(endPoint).ConfigureAwait(false);

            _phase = SmtpPhase.Greeting;
            var greeting = await ReadReplyAsync(_options.Timeouts.Greeting).ConfigureAwait(false);
            Greeting = greeting;
            if (greeting.Code != 220)
            {
                // RFC 5321 section 3.1: after a 554 greeting the client should send QUIT; a 421 closes anyway.
                await CloseAfterRefusalAsync(greeting).ConfigureAwait(false);
                return ConnectFailed(greeting, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Greeting, $"{ServerName} refused the connection in its greeting.", greeting));
            }

            var failure = await HelloAsync().ConfigureAwait(false);
            if (failure is null && _options.TlsMode != SmtpTlsMode.None)
            {
                failure = await StartTlsAsync().ConfigureAwait(false);
            }

            if (failure is not null)
            {
                return ConnectFailed(greeting, failure);
            }

            _state = State.Ready;
            return new SmtpConnectResult(greeting, null);
        }
        catch (SessionFailedException e)
        {
            return ConnectFailed(Greeting, e.Failure);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abort();
            throw new OperationCanceledException("The operation was canceled; the connection is closed.", cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Runs one mail transaction: MAIL FROM, RCPT TO for each recipient, then the content with DATA or BDAT when at
    /// least one recipient was accepted. One rejected recipient does not stop the others.
    /// </summary>
    /// <param name="envelope">The sender and recipients.</param>
    /// <param name="content">The message; written into the connection as it is produced.</param>
    /// <param name="cancellationToken">
    /// Cancels the transaction until the end of the message is sent: the connection is closed (the server discards a
    /// message whose end it did not get) and <see cref="OperationCanceledException"/> thrown. Once the final dot (or
    /// BDAT LAST) is being sent it no longer applies: the server may take the message whatever the client does, so
    /// its reply is awaited for up to <see cref="SmtpTimeouts.DataTermination"/> and returned; without
    /// a reply the result is <see cref="SmtpTransactionOutcome.Failed"/> at <see cref="SmtpPhase.DataTermination"/>
    /// (the message may have been delivered).
    /// </param>
    /// <returns>The outcome with every recipient's reply. Failures (negative replies, lost connection, timeouts) are reported here, not thrown.</returns>
    /// <exception cref="InvalidOperationException">The session is not connected, is closed, or is running another operation.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SmtpTransactionResult> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        EnsureReady();
        Enter(cancellationToken);
        using var scope = _logger.IsEnabled(LogLevel.Trace) ? _logger.BeginScope(_scope!) : null;
        try
        {
            var result = await TransactAsync(envelope, content).ConfigureAwait(false);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var accepted = 0;
                foreach (var r in result.Recipients)
                {
                    accepted += r.IsAccepted ? 1 : 0;
                }

                SmtpSessionLog.TransactionEnded(_logger, ServerName, result.Outcome, accepted, result.Recipients.Count);
            }

            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abort();
            throw new OperationCanceledException("The operation was canceled; the connection is closed.", cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Sends NOOP: a cheap check that the connection still works, for example before reusing it from a pool.</summary>
    /// <param name="cancellationToken">Cancels the probe and closes the connection.</param>
    /// <returns>True when the server answered 250; false when the session is, or has now become, unusable.</returns>
    public async ValueTask<bool> NoOpAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.Ready)
        {
            return false;
        }

        Enter(cancellationToken);
        using var scope = _logger.IsEnabled(LogLevel.Trace) ? _logger.BeginScope(_scope!) : null;
        try
        {
            _phase = SmtpPhase.Other;
            var reply = await CommandAsync("NOOP", _options.Timeouts.Command).ConfigureAwait(false);
            CheckClosing(reply);
            return reply.Code == 250;
        }
        catch (SessionFailedException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abort();
            throw new OperationCanceledException("The operation was canceled; the connection is closed.", cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Sends QUIT, waits for the reply, and closes the connection. Never fails: a broken connection is simply closed.</summary>
    /// <param name="cancellationToken">Stops waiting; the connection is closed all the same.</param>
    public async ValueTask QuitAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.Ready)
        {
            Abort();
            return;
        }

        Enter(cancellationToken);
        using var scope = _logger.IsEnabled(LogLevel.Trace) ? _logger.BeginScope(_scope!) : null;
        try
        {
            _phase = SmtpPhase.Other;
            await CommandAsync("QUIT", QuitTimeout).ConfigureAwait(false);
        }
        catch (SessionFailedException)
        {
            // Closing anyway.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing anyway; QUIT is best effort.
        }
        finally
        {
            Abort();
            Exit();
        }
    }

    /// <summary>Closes the connection without QUIT and returns the session's buffers. Call <see cref="QuitAsync"/> first for a graceful close.</summary>
    public ValueTask DisposeAsync()
    {
        Abort();
        if (Interlocked.Exchange(ref _busy, 1) == 0)
        {
            // Not in an operation: nothing else touches the buffers or the token source any more.
            ReturnBuffers();
            _timeout.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Connection phases
    // ---------------------------------------------------------------------------------------------------------

    private async ValueTask OpenSocketAsync(IPEndPoint endPoint)
    {
        _phase = SmtpPhase.Connect;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        {
            // Without TCP_NODELAY the last segment of each round trip waits for the peer's delayed ACK (~40 ms on
            // Linux): every pipelined command group and every message end would stall that long.
            NoDelay = true,
        };
        _socket = socket;
        try
        {
            if (_options.LocalEndPoint is { } local)
            {
                socket.Bind(local);
            }

            _timeout.CancelAfter(_options.Timeouts.Connect);
            await socket.ConnectAsync(endPoint, _timeout.Token).ConfigureAwait(false);
            ResetTimeout();
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"Connecting to {ServerName} ({endPoint}) took longer than {_options.Timeouts.Connect}.");
        }
        catch (SocketException e)
        {
            throw Fail(SmtpFailureKind.ConnectFailed, $"Could not connect to {ServerName} ({endPoint}): {e.SocketErrorCode}.", e);
        }

        _stream = new NetworkStream(socket, ownsSocket: true);
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            SmtpSessionLog.Connected(_logger, ServerName, endPoint.ToString(), LocalEndPoint?.ToString() ?? "?");
        }
    }

    private async ValueTask<SmtpFailure?> HelloAsync()
    {
        _phase = SmtpPhase.Hello;
        var reply = await CommandAsync("EHLO", _options.HeloName, _options.Timeouts.Command).ConfigureAwait(false);
        if (reply.IsPositiveCompletion)
        {
            Capabilities = SmtpCapabilities.Parse(reply);
            return null;
        }

        if (reply.Code != 421)
        {
            // RFC 5321 sections 3.2 and 4.1.4: a server that does not take EHLO (500, 501, 502, 550 and the like)
            // gets HELO, as Postfix's client does for any refusal but 421, which closes the session.
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                SmtpSessionLog.HeloFallback(_logger, ServerName, reply.ToString());
            }

            var ehloReply = reply;
            try
            {
                reply = await CommandAsync("HELO", _options.HeloName, _options.Timeouts.Command).ConfigureAwait(false);
            }
            catch (SessionFailedException e)
            {
                // The server hung up (or went silent) after refusing EHLO: its refusal is the reason to report.
                return new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Hello, $"{ServerName} refused EHLO, and HELO got no answer: {e.Failure.Message}", ehloReply);
            }

            if (reply.IsPositiveCompletion)
            {
                Capabilities = SmtpCapabilities.FromHelo(reply);
                return null;
            }
        }

        await CloseAfterRefusalAsync(reply).ConfigureAwait(false);
        return new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Hello, $"{ServerName} refused the EHLO/HELO greeting.", reply);
    }

    private async ValueTask<SmtpFailure?> StartTlsAsync()
    {
        _phase = SmtpPhase.StartTls;
        var required = _options.TlsMode == SmtpTlsMode.Required;
        if (!Capabilities.Supports(SmtpExtensions.StartTls))
        {
            if (!required)
            {
                return null;
            }

            await QuitQuietlyAsync().ConfigureAwait(false);
            return new SmtpFailure(SmtpFailureKind.TlsUnavailable, SmtpPhase.StartTls, $"TLS is required but {ServerName} does not offer STARTTLS.");
        }

        var reply = await CommandAsync("STARTTLS", _options.Timeouts.Command).ConfigureAwait(false);
        if (reply.Code != 220)
        {
            CheckClosing(reply);
            if (!required && _state != State.Closed)
            {
                // RFC 3207 section 4: the client may go on without TLS.
                SmtpSessionLog.StartTlsRefused(_logger, ServerName, reply.ToString());
                return null;
            }

            await QuitQuietlyAsync().ConfigureAwait(false);
            return new SmtpFailure(SmtpFailureKind.TlsUnavailable, SmtpPhase.StartTls, $"TLS is required but {ServerName} refused STARTTLS.", reply);
        }

        // Everything received so far was sent in plaintext. Whatever follows the 220 before the handshake was
        // injected (by the server or a man in the middle) and must not be read as if it came over TLS
        // (CVE-2011-0411 and its many successors).
        var leftover = _readEnd - _readStart;
        if (leftover > 0)
        {
            SmtpSessionLog.DiscardedBeforeTls(_logger, leftover, ServerName);
        }

        _readStart = _readEnd = 0;
        _parser.Reset();

        var tls = new SslStream(_stream!, leaveInnerStreamOpen: false);
        _stream = tls;
        _tls = tls;
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = ServerName,
            EnabledSslProtocols = _options.SslProtocols,
            RemoteCertificateValidationCallback = CertificateValidation(),
        };

        try
        {
            _timeout.CancelAfter(_options.Timeouts.Command);
            await tls.AuthenticateAsClientAsync(authentication, _timeout.Token).ConfigureAwait(false);
            ResetTimeout();
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"The TLS handshake with {ServerName} took longer than {_options.Timeouts.Command}.");
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            // After a failed handshake the connection's state is unknown; it cannot be used for plaintext either.
            throw Fail(SmtpFailureKind.TlsHandshakeFailed, $"The TLS handshake with {ServerName} failed: {e.Message}", e);
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            SmtpSessionLog.TlsEstablished(_logger, ServerName, tls.SslProtocol.ToString(), tls.NegotiatedCipherSuite.ToString());
        }

        // RFC 3207 section 4.2: forget what was learnt before TLS and ask again.
        Capabilities = SmtpCapabilities.Minimal;
        _phase = SmtpPhase.Hello;
        var ehlo = await CommandAsync("EHLO", _options.HeloName, _options.Timeouts.Command).ConfigureAwait(false);
        if (ehlo.Code != 250)
        {
            await CloseAfterRefusalAsync(ehlo).ConfigureAwait(false);
            return new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Hello, $"{ServerName} refused EHLO after STARTTLS.", ehlo);
        }

        Capabilities = SmtpCapabilities.Parse(ehlo);
        return null;
    }

    private RemoteCertificateValidationCallback? CertificateValidation()
    {
        if (_options.TlsMode == SmtpTlsMode.Opportunistic)
        {
            // Opportunistic TLS protects against passive eavesdropping only; MX certificates are often self-signed
            // or name another host, and refusing them would fall back to plaintext, which is worse (RFC 7435).
            return static (_, _, _, _) => true;
        }

        if (_options.CertificateValidationCallback is { } callback)
        {
            return callback;
        }

        return _options.ValidateCertificate ? null : static (_, _, _, _) => true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The mail transaction
    // ---------------------------------------------------------------------------------------------------------

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpTransactionResult> TransactAsync(SmtpEnvelope envelope, SmtpContent content)
    {
        var capabilities = Capabilities;
        var count = envelope.Recipients.Count;
        var recipients = new SmtpRecipientResult[count];
        for (var i = 0; i < count; i++)
        {
            recipients[i] = new SmtpRecipientResult(envelope.Recipients[i], null);
        }

        // Checks that need nothing from the server but its EHLO: when they fail, nothing is sent.
        var bodyType = content.GetBodyType(capabilities);
        var length = content.GetLength(capabilities);
        var smtpUtf8 = capabilities.Supports(SmtpExtensions.SmtpUtf8);
        if (bodyType == SmtpBodyType.EightBit && !capabilities.Supports(SmtpExtensions.EightBitMime))
        {
            return Refuse(recipients, 554, "5.6.3", $"The message holds 8-bit content and {ServerName} does not offer 8BITMIME; it must be sent encoded (quoted-printable or base64).");
        }

        var messageNeedsUtf8 = envelope.SenderNeedsSmtpUtf8 || content.RequiresSmtpUtf8;
        if (messageNeedsUtf8 && !smtpUtf8)
        {
            return Refuse(recipients, 553, "5.6.7", $"The sender address or the headers are UTF-8 and {ServerName} does not offer SMTPUTF8 (RFC 6531).");
        }

        if (length is { } size && capabilities.MaxMessageSize is { } max && size > max)
        {
            return Refuse(recipients, 552, "5.3.4", $"The message is {size} octets and {ServerName} takes at most {max} (SIZE).");
        }

        var anyUtf8Recipient = false;
        var sendable = 0;
        for (var i = 0; i < count; i++)
        {
            if (envelope.RecipientNeedsSmtpUtf8(i))
            {
                anyUtf8Recipient = true;
                if (!smtpUtf8)
                {
                    // RFC 6531 section 3.2: a UTF-8 mailbox cannot be downgraded; this recipient alone fails.
                    recipients[i].RcptReply = recipients[i].Reply = Synthetic(553, "5.6.7", $"The address is UTF-8 and {ServerName} does not offer SMTPUTF8 (RFC 6531).");
                    continue;
                }
            }

            sendable++;
        }

        if (sendable == 0)
        {
            return new SmtpTransactionResult(SmtpTransactionOutcome.NoRecipientsAccepted, recipients, null, null, null, new SmtpFailure(SmtpFailureKind.NotSupportedByServer, SmtpPhase.RcptTo, "No recipient can be sent to this server."));
        }

        var pipelining = _options.UsePipelining && capabilities.Supports(SmtpExtensions.Pipelining);
        var chunking = _options.UseChunking && capabilities.Supports(SmtpExtensions.Chunking);
        var useUtf8 = smtpUtf8 && (messageNeedsUtf8 || anyUtf8Recipient);
        SmtpReply? mailReply = null;
        SmtpReply? dataReply = null;

        try
        {
            // Round trip 1 (with PIPELINING): [RSET] MAIL RCPT... [DATA], in one write.
            var resetPending = _needsReset;
            if (resetPending)
            {
                _phase = SmtpPhase.Other;
                await AppendCommandAsync("RSET", null).ConfigureAwait(false);
                if (!pipelining)
                {
                    await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
                    var resetReply = await ReadReplyAsync(_options.Timeouts.Command).ConfigureAwait(false);
                    if (resetReply.Code == 421)
                    {
                        return Closing(recipients, resetReply, SmtpPhase.Other, SmtpTransactionOutcome.Failed, null, null);
                    }

                    resetPending = false;
                }
            }

            _phase = SmtpPhase.MailFrom;
            await AppendMailFromAsync(envelope.WireSender, capabilities, length, bodyType, useUtf8).ConfigureAwait(false);
            if (pipelining)
            {
                for (var i = 0; i < count; i++)
                {
                    if (recipients[i].RcptReply is null)
                    {
                        await AppendCommandAsync("RCPT TO:<", envelope.GetWireRecipient(i), ">").ConfigureAwait(false);
                    }
                }

                if (!chunking)
                {
                    await AppendCommandAsync("DATA", null).ConfigureAwait(false);
                }

                await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
                if (resetPending)
                {
                    // A 421 to the pipelined RSET: the server closes, and no reply to MAIL, RCPT or DATA will come.
                    var resetReply = await ReadReplyAsync(_options.Timeouts.Command).ConfigureAwait(false);
                    if (resetReply.Code == 421)
                    {
                        return Closing(recipients, resetReply, SmtpPhase.Other, SmtpTransactionOutcome.Failed, null, null);
                    }
                }
            }
            else
            {
                await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
            }

            _needsReset = false;
            mailReply = await ReadReplyAsync(_options.Timeouts.MailFrom).ConfigureAwait(false);
            var mailAccepted = mailReply.IsPositiveCompletion;
            _needsReset = mailAccepted;
            if (mailReply.Code == 421)
            {
                // The server is closing: no further reply will come, pipelined or not.
                return Closing(recipients, mailReply, SmtpPhase.MailFrom, SmtpTransactionOutcome.SenderRejected, mailReply, null);
            }

            var accepted = 0;
            _phase = SmtpPhase.RcptTo;
            for (var i = 0; i < count; i++)
            {
                if (recipients[i].RcptReply is not null)
                {
                    continue;
                }

                SmtpReply rcptReply;
                if (pipelining)
                {
                    rcptReply = await ReadReplyAsync(_options.Timeouts.RcptTo).ConfigureAwait(false);
                }
                else if (mailAccepted && _state == State.Ready)
                {
                    await AppendCommandAsync("RCPT TO:<", envelope.GetWireRecipient(i), ">").ConfigureAwait(false);
                    await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
                    rcptReply = await ReadReplyAsync(_options.Timeouts.RcptTo).ConfigureAwait(false);
                }
                else
                {
                    continue;
                }

                recipients[i].RcptReply = recipients[i].Reply = rcptReply;
                accepted += rcptReply.IsPositiveCompletion ? 1 : 0;
                if (rcptReply.Code == 421)
                {
                    return Closing(recipients, rcptReply, SmtpPhase.RcptTo, SmtpTransactionOutcome.Failed, mailReply, null);
                }
            }

            if (pipelining && !chunking)
            {
                _phase = SmtpPhase.DataInitiation;
                dataReply = await ReadReplyAsync(_options.Timeouts.DataInitiation).ConfigureAwait(false);
                if (dataReply.Code == 354 && (!mailAccepted || accepted == 0))
                {
                    // The server is in its DATA state although the transaction cannot go on (RFC 2920 section 3.1
                    // requires it to refuse DATA then). No content follows, and whatever is sent next, even RSET or
                    // the next transaction's MAIL, would be message text: the connection cannot be used again.
                    SmtpSessionLog.DataWithoutTransaction(_logger, ServerName, dataReply.ToString());
                    Abort();
                }
            }

            CheckClosing(mailReply);
            if (!mailAccepted)
            {
                foreach (var r in recipients)
                {
                    if (r.RcptReply is not { IsSynthetic: true })
                    {
                        r.Reply = mailReply;
                    }
                }

                return new SmtpTransactionResult(SmtpTransactionOutcome.SenderRejected, recipients, mailReply, dataReply, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.MailFrom, $"{ServerName} refused the sender.", mailReply));
            }

            if (accepted == 0)
            {
                return new SmtpTransactionResult(SmtpTransactionOutcome.NoRecipientsAccepted, recipients, mailReply, dataReply, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.RcptTo, $"{ServerName} accepted none of the recipients.", FirstRejection(recipients)));
            }

            if (!chunking)
            {
                if (!pipelining)
                {
                    _phase = SmtpPhase.DataInitiation;
                    await AppendCommandAsync("DATA", null).ConfigureAwait(false);
                    await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
                    dataReply = await ReadReplyAsync(_options.Timeouts.DataInitiation).ConfigureAwait(false);
                }

                if (dataReply!.Code != 354)
                {
                    CheckClosing(dataReply);
                    ApplyToAccepted(recipients, dataReply, delivered: false);
                    return new SmtpTransactionResult(SmtpTransactionOutcome.DataRejected, recipients, mailReply, dataReply, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.DataInitiation, $"{ServerName} refused DATA.", dataReply));
                }
            }

            // Round trip 2: the content, then the reply that decides.
            _needsReset = false;
            var finalReply = await WriteContentAsync(content, capabilities, bodyType, chunking, pipelining).ConfigureAwait(false);
            var failed = _firstFailedChunkReply;
            dataReply ??= failed;
            if (failed is { Code: 421 })
            {
                // 421 to a BDAT before the last: the server closes; no further reply comes (RFC 5321 section 3.8).
                return Closing(recipients, failed, SmtpPhase.Content, SmtpTransactionOutcome.MessageRejected, mailReply, failed);
            }

            if (finalReply is null)
            {
                // Without PIPELINING, the first refused chunk ended the content (RFC 3030 section 2): its reply
                // decides for every accepted recipient, and the transaction is reset before the next one. (A 421
                // to a later pipelined chunk closed the session: the failure carries it, for the host's backoff.)
                _needsReset = true;
                ApplyToAccepted(recipients, failed!, delivered: false);
                return new SmtpTransactionResult(SmtpTransactionOutcome.MessageRejected, recipients, mailReply, dataReply, null, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Content, $"{ServerName} refused a chunk of the message.", _closingChunkReply ?? failed));
            }

            CheckClosing(finalReply);
            if (finalReply.IsPositiveCompletion && failed is null)
            {
                ApplyToAccepted(recipients, finalReply, delivered: true);
                return new SmtpTransactionResult(SmtpTransactionOutcome.Delivered, recipients, mailReply, dataReply, finalReply, null);
            }

            var decisive = failed ?? finalReply;
            ApplyToAccepted(recipients, decisive, delivered: false);
            return new SmtpTransactionResult(SmtpTransactionOutcome.MessageRejected, recipients, mailReply, dataReply, finalReply, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.DataTermination, $"{ServerName} refused the message.", decisive));
        }
        catch (SessionFailedException e)
        {
            if (e.Failure.Kind == SmtpFailureKind.InvalidContent)
            {
                ApplyToAccepted(recipients, Synthetic(554, "5.6.0", e.Failure.Message), delivered: false);
            }

            return new SmtpTransactionResult(SmtpTransactionOutcome.Failed, recipients, mailReply, dataReply, null, e.Failure);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AppendMailFromAsync(string sender, SmtpCapabilities capabilities, long? length, SmtpBodyType bodyType, bool smtpUtf8)
    {
        if (_writeBuffer.Length - _writeLength < 1024)
        {
            await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
        }

        var start = _writeLength;
        AppendCommand("MAIL FROM:<", sender, ">", log: false);

        // The parameters go on the same line, before its CRLF (RFC 1870, RFC 6152, RFC 6531).
        _writeLength -= 2;
        var span = _writeBuffer.AsSpan(_writeLength);
        var written = 0;
        if (length is { } size && capabilities.Supports(SmtpExtensions.Size))
        {
            " SIZE="u8.CopyTo(span);
            written += 6;
            size.TryFormat(span[written..], out var digits, default, CultureInfo.InvariantCulture);
            written += digits;
        }

        if (bodyType == SmtpBodyType.EightBit)
        {
            " BODY=8BITMIME"u8.CopyTo(span[written..]);
            written += 14;
        }

        if (smtpUtf8)
        {
            " SMTPUTF8"u8.CopyTo(span[written..]);
            written += 9;
        }

        CrLf.CopyTo(span[written..]);
        _writeLength += written + 2;
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, Encoding.UTF8.GetString(_writeBuffer.AsSpan(start, _writeLength - start - 2)));
        }
    }

    /// <summary>
    /// Sends the content and returns the reply after its end; null when a chunk was refused without PIPELINING and
    /// the content stopped there (<see cref="_firstFailedChunkReply"/> holds that reply, and a 421 to any chunk
    /// but the last).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpReply?> WriteContentAsync(SmtpContent content, SmtpCapabilities capabilities, SmtpBodyType bodyType, bool chunking, bool pipelining)
    {
        _phase = SmtpPhase.Content;
        _encoder = new SmtpDataEncoder(dotStuffing: !chunking, sevenBitOnly: bodyType == SmtpBodyType.SevenBit);
        _chunking = chunking;
        _chunkRepliesPipelined = pipelining;
        _pendingChunkReplies = 0;
        _firstFailedChunkReply = null;
        _closingChunkReply = null;
        _contentOctets = 0;
        _writeLength = chunking ? BdatHeaderReserve : 0;

        try
        {
            await content.WriteToAsync(_dataStream, capabilities, _operationToken).ConfigureAwait(false);
        }
        catch (SessionFailedException)
        {
            throw;
        }
        catch (OperationCanceledException) when (_operationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception) when (_firstFailedChunkReply is not null)
        {
            // A chunk was refused (ChunkRefusedException, perhaps wrapped by the content source): no more are sent.
            return AbandonContent();
        }
        catch (Exception e)
        {
            // The message is incomplete: closing the connection before its end makes the server discard it.
            Abort();
            throw new SessionFailedException(new SmtpFailure(SmtpFailureKind.ContentSourceFailed, SmtpPhase.Content, $"The message content could not be read: {e.Message}", exception: e));
        }

        if (_firstFailedChunkReply is not null)
        {
            // The content source swallowed the refusal of a chunk; the message still ends there.
            return AbandonContent();
        }

        _writeLength += _encoder.Complete(_writeBuffer.AsSpan(_writeLength));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientContent(_logger, _contentOctets);
        }

        // From here on the end of the message goes out, and the server may take it whatever the caller does.
        DetachCancellation();
        if (chunking)
        {
            await SendChunkAsync(last: true).ConfigureAwait(false);
            _phase = SmtpPhase.DataTermination;
            SmtpReply? final = null;
            try
            {
                while (_pendingChunkReplies > 0)
                {
                    var last = _pendingChunkReplies == 1;
                    final = await ReadChunkReplyAsync(last ? _options.Timeouts.DataTermination : _options.Timeouts.DataBlock, last).ConfigureAwait(false);
                }
            }
            catch (ChunkRefusedException)
            {
                // A 421 to a pipelined chunk before the last: the server closed; no other reply will come.
                return AbandonContent();
            }

            return final!;
        }

        if (_options.LogContent && _logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, ".");
        }

        await FlushAsync(_options.Timeouts.DataBlock).ConfigureAwait(false);
        _phase = SmtpPhase.DataTermination;
        try
        {
            return await ReadReplyAsync(_options.Timeouts.DataTermination).ConfigureAwait(false);
        }
        catch (SessionFailedException e) when (e.Failure.Kind is SmtpFailureKind.ConnectionLost or SmtpFailureKind.TimedOut)
        {
            // RFC 5321 section 4.1.1.4 and RFC 1047: the server may have taken the message; do not assume it did not.
            SmtpSessionLog.LostAfterData(_logger, ServerName, e.Failure.Exception);
            throw;
        }
    }

    /// <summary>Drops the encoded content not sent (and the BDAT header gap): the next command starts at the front.</summary>
    private SmtpReply? AbandonContent()
    {
        _writeLength = 0;
        return null;
    }

    /// <summary>Called by the data stream for every write of content.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteContentBlockAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        if (_phase != SmtpPhase.Content)
        {
            throw new InvalidOperationException("Message content can only be written while the session sends it.");
        }

        if (_firstFailedChunkReply is not null)
        {
            // A chunk was refused: nothing more of this message is sent (RFC 3030 section 2).
            throw new ChunkRefusedException();
        }

        _contentOctets += source.Length;
        if (_options.LogContent && _logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, Encoding.UTF8.GetString(source.Span));
        }

        while (!source.IsEmpty)
        {
            var status = _encoder.Encode(source.Span, _writeBuffer.AsSpan(_writeLength), out var consumed, out var written);
            _writeLength += written;
            source = source[consumed..];
            if (status == SmtpEncodeStatus.InvalidData)
            {
                // Some content may be on the wire already; without its end the server discards the message.
                Abort();
                throw new SessionFailedException(new SmtpFailure(SmtpFailureKind.InvalidContent, SmtpPhase.Content, _encoder.Error!));
            }

            if (status == SmtpEncodeStatus.DestinationTooSmall)
            {
                if (_chunking)
                {
                    await SendChunkAsync(last: false).ConfigureAwait(false);
                }
                else
                {
                    await FlushAsync(_options.Timeouts.DataBlock).ConfigureAwait(false);
                }
            }
        }

        // Leave room for the end of the content (CRLF and the dot line) after the last write.
        if (_writeBuffer.Length - _writeLength < 8)
        {
            if (_chunking)
            {
                await SendChunkAsync(last: false).ConfigureAwait(false);
            }
            else
            {
                await FlushAsync(_options.Timeouts.DataBlock).ConfigureAwait(false);
            }
        }

        _ = cancellationToken;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendChunkAsync(bool last)
    {
        // The chunk was encoded after a reserved gap; its BDAT command is written into the end of the gap so that
        // command and chunk go out in one write (RFC 3030 section 2).
        var size = _writeLength - BdatHeaderReserve;
        Span<byte> header = stackalloc byte[BdatHeaderReserve];
        "BDAT "u8.CopyTo(header);
        size.TryFormat(header[5..], out var digits, default, CultureInfo.InvariantCulture);
        var headerLength = 5 + digits;
        if (last)
        {
            " LAST"u8.CopyTo(header[headerLength..]);
            headerLength += 5;
        }

        CrLf.CopyTo(header[headerLength..]);
        headerLength += 2;
        var start = BdatHeaderReserve - headerLength;
        header[..headerLength].CopyTo(_writeBuffer.AsSpan(start));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, Encoding.ASCII.GetString(header[..(headerLength - 2)]));
        }

        await WriteAsync(_writeBuffer.AsMemory(start, _writeLength - start), _options.Timeouts.DataBlock).ConfigureAwait(false);

        // The next chunk is encoded after the reserved gap again; after the last one, commands start at the front.
        _writeLength = last ? 0 : BdatHeaderReserve;
        _pendingChunkReplies++;
        if (!_chunkRepliesPipelined && !last)
        {
            // Without PIPELINING each BDAT waits for its reply (RFC 3030 section 4.2), and a refused one is the last.
            await ReadChunkReplyAsync(_options.Timeouts.DataBlock, last: false).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the reply to one BDAT. The first refusal of a chunk before the last decides the message (RFC 3030
    /// section 2); it stops the content with <see cref="ChunkRefusedException"/> when no further chunk may be sent
    /// (lock-step, without PIPELINING) or no further reply will come (421).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpReply> ReadChunkReplyAsync(TimeSpan timeout, bool last)
    {
        var reply = await ReadReplyAsync(timeout).ConfigureAwait(false);
        _pendingChunkReplies--;
        if (!last && !reply.IsPositiveCompletion)
        {
            _firstFailedChunkReply ??= reply;
            if (reply.Code == 421)
            {
                _closingChunkReply = reply;
                Abort();
                throw new ChunkRefusedException();
            }

            if (!_chunkRepliesPipelined)
            {
                throw new ChunkRefusedException();
            }
        }

        return reply;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Commands, replies and I/O
    // ---------------------------------------------------------------------------------------------------------

    private async ValueTask<SmtpReply> CommandAsync(string verb, TimeSpan timeout)
    {
        await AppendCommandAsync(verb, null).ConfigureAwait(false);
        await FlushAsync(timeout).ConfigureAwait(false);
        return await ReadReplyAsync(timeout).ConfigureAwait(false);
    }

    private async ValueTask<SmtpReply> CommandAsync(string verb, string argument, TimeSpan timeout)
    {
        await AppendCommandAsync(verb + " ", argument, null).ConfigureAwait(false);
        await FlushAsync(timeout).ConfigureAwait(false);
        return await ReadReplyAsync(timeout).ConfigureAwait(false);
    }

    private ValueTask AppendCommandAsync(string verb, string? argument, string? suffix = null)
    {
        var needed = verb.Length + 2 + (argument is null ? 0 : Encoding.UTF8.GetMaxByteCount(argument.Length)) + (suffix?.Length ?? 0) + 64;
        if (_writeBuffer.Length - _writeLength >= needed)
        {
            AppendCommand(verb, argument, suffix);
            return ValueTask.CompletedTask;
        }

        return FlushThenAppendAsync(verb, argument, suffix);
    }

    private async ValueTask FlushThenAppendAsync(string verb, string? argument, string? suffix)
    {
        await FlushAsync(_options.Timeouts.Command).ConfigureAwait(false);
        AppendCommand(verb, argument, suffix);
    }

    private void AppendCommand(string verb, string? argument, string? suffix, bool log = true)
    {
        var span = _writeBuffer.AsSpan(_writeLength);
        var written = Encoding.ASCII.GetBytes(verb, span);
        if (argument is not null)
        {
            written += Encoding.UTF8.GetBytes(argument, span[written..]);
        }

        if (suffix is not null)
        {
            written += Encoding.ASCII.GetBytes(suffix, span[written..]);
        }

        if (log && _logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, Encoding.UTF8.GetString(span[..written]));
        }

        CrLf.CopyTo(span[written..]);
        _writeLength += written + 2;
    }

    private ValueTask FlushAsync(TimeSpan timeout)
    {
        if (_writeLength == 0)
        {
            return ValueTask.CompletedTask;
        }

        var length = _writeLength;
        _writeLength = 0;
        return WriteAsync(_writeBuffer.AsMemory(0, length), timeout);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, TimeSpan timeout)
    {
        var stream = _stream ?? throw Fail(SmtpFailureKind.ConnectionLost, "The connection is closed.");
        try
        {
            _timeout.CancelAfter(timeout);
            await stream.WriteAsync(data, _timeout.Token).ConfigureAwait(false);
            ResetTimeout();
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"Sending to {ServerName} took longer than {timeout} ({_phase}).");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw Fail(SmtpFailureKind.ConnectionLost, $"The connection to {ServerName} broke while sending ({_phase}): {e.Message}", e);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpReply> ReadReplyAsync(TimeSpan timeout)
    {
        // Replies already received (pipelined ones arrive together) are parsed without touching the socket.
        var reply = TryParseBuffered();
        if (reply is not null)
        {
            return reply;
        }

        var stream = _stream ?? throw Fail(SmtpFailureKind.ConnectionLost, "The connection is closed.");

        // One deadline for the whole reply: a server that trickles one octet at a time cannot extend it.
        _timeout.CancelAfter(timeout);
        try
        {
            while (true)
            {
                if (_readStart > 0)
                {
                    Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, _readEnd - _readStart);
                    _readEnd -= _readStart;
                    _readStart = 0;
                }

                var read = await stream.ReadAsync(_readBuffer.AsMemory(_readEnd), _timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw Fail(SmtpFailureKind.ConnectionLost, $"{ServerName} closed the connection ({_phase}).");
                }

                _readEnd += read;
                reply = TryParseBuffered();
                if (reply is not null)
                {
                    ResetTimeout();
                    return reply;
                }
            }
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"{ServerName} did not reply within {timeout} ({_phase}).");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw Fail(SmtpFailureKind.ConnectionLost, $"The connection to {ServerName} broke while reading ({_phase}): {e.Message}", e);
        }
    }

    private SmtpReply? TryParseBuffered()
    {
        if (_readEnd == _readStart)
        {
            return null;
        }

        SmtpReply? reply;
        int consumed;
        try
        {
            reply = _parser.Parse(_readBuffer.AsSpan(_readStart, _readEnd - _readStart), out consumed);
        }
        catch (SmtpProtocolException e)
        {
            throw Fail(SmtpFailureKind.ProtocolViolation, e.Message, e);
        }

        if (_logger.IsEnabled(LogLevel.Trace) && consumed > 0)
        {
            LogServerLines(_readBuffer.AsSpan(_readStart, consumed));
        }

        _readStart += consumed;
        return reply;
    }

    private void LogServerLines(ReadOnlySpan<byte> lines)
    {
        while (!lines.IsEmpty)
        {
            var end = lines.IndexOf((byte)'\n');
            var line = lines[..end];
            if (!line.IsEmpty && line[^1] == '\r')
            {
                line = line[..^1];
            }

            SmtpSessionLog.ServerLine(_logger, DisplayText.EscapeUtf8(line)); // a hostile server cannot control a terminal or forge a line
            lines = lines[(end + 1)..];
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // State, timeouts and closing
    // ---------------------------------------------------------------------------------------------------------

    private void Enter(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("The session is already running an operation; a session is one conversation and is not thread-safe.");
        }

        if (_timeout.IsCancellationRequested)
        {
            // A caller's token fired just after the previous operation ended; this operation gets a fresh source.
            _timeout.Dispose();
            _timeout = new CancellationTokenSource();
        }

        _operationToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellationRegistration = cancellationToken.UnsafeRegister(static state => ((SmtpSession)state!).CancelIo(), this);
        }
    }

    private void Exit()
    {
        _cancellationRegistration.Dispose();
        _cancellationRegistration = default;
        _operationToken = default;
        if (_state == State.Closed)
        {
            ReturnBuffers();
        }

        Volatile.Write(ref _busy, 0);
    }

    /// <summary>
    /// Called just before the end of the message (the final dot, or BDAT LAST) is written. From then on the server
    /// may take the message whatever the client does, so the operation's token is no longer honoured: the end is
    /// written within <see cref="SmtpTimeouts.DataBlock"/> and its reply awaited for the whole
    /// <see cref="SmtpTimeouts.DataTermination"/> (RFC 5321 section 4.5.3.2.6). Abandoning the wait
    /// could only leave the outcome unknown and invite a second copy. A token canceled before this point still
    /// cancels, and the server discards the unfinished message.
    /// </summary>
    private void DetachCancellation()
    {
        // Dispose waits for a callback that is running, so CancelIo cannot fire after this line.
        _cancellationRegistration.Dispose();
        _cancellationRegistration = default;
        _operationToken.ThrowIfCancellationRequested();
        _operationToken = default;
    }

    private void CancelIo()
    {
        try
        {
            _timeout.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void ResetTimeout()
    {
        // A token source that has fired cannot be reset; it only fires on failure, which closes the session.
        _timeout.TryReset();
    }

    private void EnsureReady()
    {
        if (_state != State.Ready)
        {
            throw new InvalidOperationException(_state == State.New
                ? "The session is not connected; call ConnectAsync first."
                : "The session is closed (QUIT, 421, an I/O error, a timeout or a protocol violation); open a new one.");
        }
    }

    private void CheckClosing(SmtpReply reply)
    {
        // 421: the service is closing the transmission channel (RFC 5321 section 3.8).
        if (reply.Code == 421)
        {
            Abort();
        }
    }

    private async ValueTask CloseAfterRefusalAsync(SmtpReply reply)
    {
        if (reply.Code != 421)
        {
            await QuitQuietlyAsync().ConfigureAwait(false);
        }

        Abort();
    }

    private async ValueTask QuitQuietlyAsync()
    {
        try
        {
            var previous = _phase;
            _phase = SmtpPhase.Other;
            await CommandAsync("QUIT", QuitTimeout).ConfigureAwait(false);
            _phase = previous;
        }
        catch (SessionFailedException)
        {
        }

        Abort();
    }

    /// <summary>
    /// How long to wait for the reply to QUIT: the command timeout, at most 30 seconds. The message is already
    /// delivered or refused by then; waiting minutes for a goodbye only holds a socket.
    /// </summary>
    private TimeSpan QuitTimeout => _options.Timeouts.Command < TimeSpan.FromSeconds(30) && _options.Timeouts.Command != Timeout.InfiniteTimeSpan ? _options.Timeouts.Command : TimeSpan.FromSeconds(30);

    private SessionFailedException Fail(SmtpFailureKind kind, string message, Exception? exception = null)
    {
        var failure = new SmtpFailure(kind, _phase, message, exception: exception);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            SmtpSessionLog.Failed(_logger, ServerName, failure.ToString());
        }

        Abort();
        return new SessionFailedException(failure);
    }

    private SmtpConnectResult ConnectFailed(SmtpReply? greeting, SmtpFailure failure)
    {
        Abort();
        return new SmtpConnectResult(greeting, failure);
    }

    private void Abort()
    {
        _state = State.Closed;
        var stream = _stream;
        var socket = _socket;
        _stream = null;
        _socket = null;
        try
        {
            stream?.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            // Closing a broken TLS stream can throw; the socket is closed below either way.
        }

        socket?.Dispose();
    }

    private void ReturnBuffers()
    {
        var read = Interlocked.Exchange(ref _readBuffer, []);
        var write = Interlocked.Exchange(ref _writeBuffer, []);
        if (read.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(read);
        }

        if (write.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(write);
        }
    }

    private static SmtpReply Synthetic(int code, string enhanced, string text) => new(code, [enhanced + " " + text], isSynthetic: true);

    private SmtpTransactionResult Refuse(SmtpRecipientResult[] recipients, int code, string enhanced, string text)
    {
        var reply = Synthetic(code, enhanced, text);
        foreach (var r in recipients)
        {
            r.RcptReply = r.Reply = reply;
        }

        return new SmtpTransactionResult(SmtpTransactionOutcome.Failed, recipients, null, null, null, new SmtpFailure(SmtpFailureKind.NotSupportedByServer, SmtpPhase.MailFrom, text, reply));
    }

    private static void ApplyToAccepted(SmtpRecipientResult[] recipients, SmtpReply reply, bool delivered)
    {
        foreach (var r in recipients)
        {
            if (r.IsAccepted)
            {
                r.Reply = reply;
                r.IsDelivered = delivered;
            }
        }
    }

    private SmtpTransactionResult Closing(SmtpRecipientResult[] recipients, SmtpReply closing, SmtpPhase phase, SmtpTransactionOutcome outcome, SmtpReply? mailReply, SmtpReply? dataReply)
    {
        // 421 (RFC 5321 section 3.8): the server ends the session. Every recipient not yet refused shares that reply.
        Abort();
        foreach (var r in recipients)
        {
            if (r.RcptReply is null || r.IsAccepted)
            {
                r.Reply = closing;
                r.IsDelivered = false;
            }
        }

        return new SmtpTransactionResult(outcome, recipients, mailReply, dataReply, null, new SmtpFailure(SmtpFailureKind.Rejected, phase, $"{ServerName} is closing the connection.", closing));
    }

    private static SmtpReply? FirstRejection(SmtpRecipientResult[] recipients)
    {
        foreach (var r in recipients)
        {
            if (r.RcptReply is { IsPositiveCompletion: false })
            {
                return r.RcptReply;
            }
        }

        return null;
    }

    private static SmtpSessionOptions Copy(SmtpSessionOptions o) => new()
    {
        HeloName = o.HeloName,
        TlsMode = o.TlsMode,
        ValidateCertificate = o.ValidateCertificate,
        CertificateValidationCallback = o.CertificateValidationCallback,
        SslProtocols = o.SslProtocols,
        LocalEndPoint = o.LocalEndPoint,
        UsePipelining = o.UsePipelining,
        UseChunking = o.UseChunking,
        Timeouts = o.Timeouts.Copy(),
        MaxReplyLineLength = o.MaxReplyLineLength,
        MaxReplyLines = o.MaxReplyLines,
        MaxReplyBytes = o.MaxReplyBytes,
        LogContent = o.LogContent,
    };

    /// <summary>Stops the content when a BDAT chunk was refused and no further one may be sent.</summary>
    private sealed class ChunkRefusedException : Exception
    {
        public ChunkRefusedException()
            : base("The server refused a BDAT chunk; no further chunk is sent.")
        {
        }
    }

    /// <summary>Carries a failure from deep in the I/O code to the public method that reports it.</summary>
    private sealed class SessionFailedException : Exception
    {
        public SessionFailedException(SmtpFailure failure)
            : base(failure.Message, failure.Exception)
        {
            Failure = failure;
        }

        public SmtpFailure Failure { get; }
    }
}
