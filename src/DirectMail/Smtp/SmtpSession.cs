using System;
using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Smtp;

/// <summary>
/// One SMTP client connection (RFC 5321): connect (with implicit TLS, RFC 8314), greeting, EHLO (HELO fallback),
/// STARTTLS, AUTH when credentials are set (RFC 4954, <see cref="Auth.SmtpAuthExchange"/>), then any number of mail
/// transactions, each with a reply for every recipient, and QUIT.
/// </summary>
/// <remarks>
/// <para>
/// This file is the state machine (<see cref="SmtpSessionState"/>): a session is <c>New</c>, <c>Ready</c> after
/// <see cref="ConnectAsync"/> succeeded, <c>InTransaction</c> while the server holds a transaction whose message
/// did not end (the next one starts with RSET), <c>InData</c> while the content is sent, and <c>Closed</c> for good
/// after QUIT, a 421, an I/O error, a timeout, a protocol violation or cancellation: <see cref="IsUsable"/> says
/// which. A failure is a typed result, never an exception; exceptions are for invalid arguments, misuse (two
/// operations at once) and cancellation, which closes the connection.
/// </para>
/// <para>
/// The socket, TLS and buffers are the <see cref="SmtpConnection"/>; a transaction is run by the session's
/// <see cref="SmtpTransaction"/>, its content framed by a <see cref="DotStuffedDataBody"/> or <see cref="BdatChunkedBody"/>.
/// Commands of one round trip are written into one buffer and sent in one write: with PIPELINING (RFC 2920) that
/// is RSET when needed, MAIL, every RCPT and DATA. Content is streamed through the same buffer, never held whole.
/// A session is not thread-safe; use one per concurrent conversation.
/// </para>
/// </remarks>
public sealed class SmtpSession : IAsyncDisposable
{
    private readonly SmtpSessionOptions _options;
    private readonly ILogger _logger;
    private readonly SmtpConnection _connection;
    private SmtpTransaction _transaction;
    private SmtpTransaction? _spare;
    private bool _presented;
    private readonly Auth.SmtpAuthExchange? _authentication;
    private readonly TlsRequirement _requirement;
    private bool _tlsValidated;
    private TlsFailureType? _certificateFailure;
    private SmtpSessionState _state;
    private int _busy;
    private SmtpSessionScope? _scope;

    /// <summary>Creates a session; nothing is connected until <see cref="ConnectAsync"/>.</summary>
    /// <param name="options">The settings; they are checked now and copied, so later changes do not affect this session.</param>
    /// <param name="logger">Receives the transcript at Trace level and events at Debug and above; null for none.</param>
    /// <exception cref="ArgumentException">A setting is invalid (for example, the EHLO name).</exception>
    public SmtpSession(SmtpSessionOptions options, ILogger? logger = null)
        : this(options, logger, TlsRequirement.Opportunistic)
    {
    }

    /// <summary>Creates a session held to a transport-security requirement (MTA-STS, DANE), decided before it connects.</summary>
    internal SmtpSession(SmtpSessionOptions options, ILogger? logger, TlsRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(options);
        _requirement = requirement;
        options.Validate();
        _options = Copy(options);
        _logger = logger ?? NullLogger.Instance;
        _connection = new SmtpConnection(_options, _logger);
        _transaction = new SmtpTransaction(this, _connection, _options, _logger);
        _authentication = _options.Credentials is null ? null : new Auth.SmtpAuthExchange(_connection, _options, _logger);
    }

    /// <summary>The server's greeting, once read.</summary>
    public SmtpReply? Greeting { get; private set; }

    /// <summary>What the server announced in its last EHLO reply (after STARTTLS, the encrypted one).</summary>
    public SmtpCapabilities Capabilities { get; private set; } = SmtpCapabilities.Minimal;

    /// <summary>True while the session can run transactions.</summary>
    public bool IsUsable => State is not (SmtpSessionState.New or SmtpSessionState.Closed);

    /// <summary>True when the connection is protected by TLS.</summary>
    public bool IsEncrypted => _connection.IsEncrypted;

    /// <summary>The TLS version in use, when encrypted.</summary>
    public SslProtocols? TlsProtocol => _connection.TlsProtocol;

    /// <summary>The SASL mechanism the session authenticated with (<see cref="SmtpSessionOptions.Credentials"/>); null when it did not authenticate.</summary>
    public SmtpAuthMechanism? AuthMechanism => _authentication?.Mechanism;

    /// <summary>The address connected to.</summary>
    public IPEndPoint? RemoteEndPoint { get; private set; }

    /// <summary>The local address the connection comes from.</summary>
    public IPEndPoint? LocalEndPoint => _connection.LocalEndPoint;

    /// <summary>Whether the connection's socket has TCP_NODELAY set; null when it is not open.</summary>
    internal bool? SocketNoDelay => _connection.SocketNoDelay;

    /// <summary>What the transport-security policy demanded of this session (opportunistic unless MTA-STS or DANE applied).</summary>
    internal TlsRequirement Requirement => _requirement;

    /// <summary>How the session is protected: set when it connected (plaintext, or the TLS it reached, by what was checked).</summary>
    internal TlsPosture Posture { get; private set; } = TlsPosture.Plaintext;

    /// <summary>
    /// What a TLS-RPT report counts for this session's handshake: whether TLS was tried or required (a session that never
    /// reached STARTTLS, or an opportunistic one to a server without it, has nothing to report), and the failure, if any.
    /// A failure under an observed (MTA-STS <c>testing</c>) requirement did not stop the session.
    /// </summary>
    internal TlsOutcome Tls { get; private set; }

    /// <summary>
    /// True when the session is authenticated by a policy, DANE or MTA-STS, with a validated certificate (REQUIRETLS,
    /// RFC 8689 section 4.2, may only use such sessions).
    /// </summary>
    internal bool IsPolicyValidated => Posture.Kind is TlsPostureKind.MtaSts or TlsPostureKind.DaneEe or TlsPostureKind.DaneTa;

    /// <summary>True when the session is to a configured relay (<see cref="SmtpSessionOptions.IsConfiguredRelay"/>).</summary>
    internal bool IsConfiguredRelay => _options.IsConfiguredRelay;

    /// <summary>
    /// True when the session is to a configured relay over TLS whose certificate was validated against the relay's
    /// configured host name: by the platform (<see cref="SmtpSessionOptions.ValidateCertificate"/>) or by the
    /// application's own callback (a pinned key), as for credentials. A relay with validation turned off is not.
    /// REQUIRETLS (RFC 8689 section 4.2) takes such a session as it takes one authenticated by DANE or MTA-STS.
    /// </summary>
    internal bool IsRelayValidated => _options.IsConfiguredRelay && _tlsValidated && IsEncrypted;

    /// <summary>The server's host name as given to <see cref="ConnectAsync"/> (the MX host), or its address.</summary>
    public string ServerName { get; private set; } = string.Empty;

    /// <summary>Where the session is; a connection that closed (on any failure) makes it <see cref="SmtpSessionState.Closed"/>.</summary>
    internal SmtpSessionState State => _connection.IsClosed ? SmtpSessionState.Closed : _state;

    /// <summary>The stream content is written into; one per session.</summary>
    internal SmtpDataStream DataStream { get; } = new();

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
        if (State != SmtpSessionState.New)
        {
            throw new InvalidOperationException("A session connects once; create a new session for another connection.");
        }

        return await RunAsync((endPoint, serverName), static (session, a) => session.ConnectCoreAsync(a.endPoint, a.serverName), cancellationToken).ConfigureAwait(false);
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
    public ValueTask<SmtpTransactionResult> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default)
    {
        // Not an async method itself (the operation is the one state machine of the session per message); misuse
        // is still reported through the returned task, as an async method would.
        if (SendMisuse(envelope, content) is { } misuse)
        {
            return ValueTask.FromException<SmtpTransactionResult>(misuse);
        }

        return RunAsync((envelope, content), static (session, a) => session._transaction.RunAsync(a.envelope, a.content), cancellationToken);
    }

    /// <summary>
    /// <see cref="SendAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/>, taking a waiting transaction from
    /// <paramref name="next"/> once this message's end is sent (see <see cref="IWaitingTransaction"/>); and, when this
    /// call is the one <see cref="HandedTo"/> names, continuing from the replies to its envelope already sent.
    /// </summary>
    internal ValueTask<SmtpTransactionResult> SendAsync(SmtpEnvelope envelope, SmtpContent content, IWaitingTransactionSource? next, CancellationToken cancellationToken)
    {
        if (SendMisuse(envelope, content) is { } misuse)
        {
            return ValueTask.FromException<SmtpTransactionResult>(misuse);
        }

        var handed = HandedTo;
        HandedTo = null;
        if (_presented)
        {
            _presented = false;
            if (handed is null || !ReferenceEquals(handed.Envelope, envelope) || !ReferenceEquals(handed.Content, content))
            {
                // Its envelope is on the wire and cannot be taken back (after DATA's 354 anything sent is text).
                Abort();
                return ValueTask.FromException<SmtpTransactionResult>(new InvalidOperationException("Another transaction's envelope was already sent on this session; the connection is closed."));
            }

            if (cancellationToken.IsCancellationRequested)
            {
                // Its replies are coming and nobody will read them: the connection cannot be used again.
                Abort();
                return ValueTask.FromCanceled<SmtpTransactionResult>(cancellationToken);
            }

            // The spare runner, which sent the envelope, becomes the session's; the other is the spare for the next presend.
            (_transaction, _spare) = (_spare!, _transaction);
            return RunAsync(next, static (session, n) => session._transaction.RunAsync(null!, null!, n, presented: true), cancellationToken);
        }

        return RunAsync((envelope, content, next), static (session, a) => session._transaction.RunAsync(a.envelope, a.content, a.next), cancellationToken);
    }

    /// <summary>
    /// The waiting transaction this session took for its caller-to-be (see <see cref="PresendAsync"/>): the pool hands
    /// the session to that caller when the current one gives it back. Its envelope is already sent when
    /// <see cref="HasPresented"/>; cleared by the caller's <c>SendAsync</c>.
    /// </summary>
    internal IWaitingTransaction? HandedTo { get; private set; }

    /// <summary>True when the envelope of <see cref="HandedTo"/> is on the wire, its replies not yet read.</summary>
    internal bool HasPresented => _presented;

    /// <summary>
    /// Called by the running transaction once its message's end is sent: takes the first transaction waiting in
    /// <paramref name="source"/> and writes its envelope now, with the spare runner.
    /// </summary>
    internal async ValueTask PresendAsync(IWaitingTransactionSource source)
    {
        if (HandedTo is not null || source.TryTake() is not { } waiting)
        {
            return;
        }

        HandedTo = waiting;
        var spare = _spare ??= new SmtpTransaction(this, _connection, _options, _logger);
        _presented = await spare.PresendAsync(waiting).ConfigureAwait(false);
    }

    /// <summary>Sends NOOP: a cheap check that the connection still works, for example before reusing it from a pool.</summary>
    /// <param name="cancellationToken">Cancels the probe and closes the connection.</param>
    /// <returns>True when the server answered 250; false when the session is, or has now become, unusable.</returns>
    public ValueTask<bool> NoOpAsync(CancellationToken cancellationToken = default)
        => IsUsable ? RunAsync(0, static (session, _) => session.NoOpCoreAsync(), cancellationToken) : new(false);

    /// <summary>Sends QUIT, waits for the reply, and closes the connection. Never fails: a broken connection is simply closed.</summary>
    /// <param name="cancellationToken">Stops waiting; the connection is closed all the same.</param>
    public async ValueTask QuitAsync(CancellationToken cancellationToken = default)
    {
        if (!IsUsable)
        {
            Abort();
            return;
        }

        await RunAsync(cancellationToken, static (session, token) => session.QuitCoreAsync(token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection without QUIT and returns the session's buffers. Call <see cref="QuitAsync"/> first for a graceful close.</summary>
    public ValueTask DisposeAsync()
    {
        Abort();
        if (Interlocked.Exchange(ref _busy, 1) == 0)
        {
            // Not in an operation: nothing else touches the buffers or the token source any more.
            _connection.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Moves to a state of the conversation; the transaction reports what the server holds.</summary>
    internal void MoveTo(SmtpSessionState state) => _state = state;

    // ---------------------------------------------------------------------------------------------------------
    // Operations: one at a time, and a canceled one closes the connection
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Runs one operation: claims the session, links the caller's token to the I/O in flight and, when that token
    /// cancels the operation, closes the connection (the server cannot be left in the middle of a command) and
    /// throws <see cref="OperationCanceledException"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> RunAsync<TArgument, TResult>(TArgument argument, Func<SmtpSession, TArgument, ValueTask<TResult>> operation, CancellationToken cancellationToken)
    {
        Enter(cancellationToken);
        using var scope = _scope is not null && _logger.IsEnabled(LogLevel.Trace) ? _logger.BeginScope(_scope) : null;
        try
        {
            return await operation(this, argument).ConfigureAwait(false);
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

    private void Enter(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("The session is already running an operation; a session is one conversation and is not thread-safe.");
        }

        _connection.BeginOperation(cancellationToken);
    }

    private void Exit()
    {
        _connection.EndOperation();
        if (State == SmtpSessionState.Closed)
        {
            _connection.ReturnBuffers();
        }

        Volatile.Write(ref _busy, 0);
    }

    /// <summary>Why <see cref="SendAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/> cannot run now; null when it can.</summary>
    private Exception? SendMisuse(SmtpEnvelope? envelope, SmtpContent? content) => envelope is null ? new ArgumentNullException(nameof(envelope))
        : content is null ? new ArgumentNullException(nameof(content))
        : State switch
        {
            SmtpSessionState.New => new InvalidOperationException("The session is not connected; call ConnectAsync first."),
            SmtpSessionState.Closed => new InvalidOperationException("The session is closed (QUIT, 421, an I/O error, a timeout or a protocol violation); open a new one."),
            _ => null,
        };

    private void Abort() => _connection.Abort();

    // ---------------------------------------------------------------------------------------------------------
    // New -> Ready: connection, greeting, EHLO, STARTTLS
    // ---------------------------------------------------------------------------------------------------------

    private async ValueTask<SmtpConnectResult> ConnectCoreAsync(IPEndPoint endPoint, string? serverName)
    {
        ServerName = string.IsNullOrEmpty(serverName) ? endPoint.Address.ToString() : serverName;
        _connection.ServerName = ServerName;
        RemoteEndPoint = endPoint;
        _scope = new SmtpSessionScope(ServerName, endPoint);
        using var scope = _logger.BeginScope(_scope);
        try
        {
            _connection.Phase = SmtpPhase.Connect;
            await _connection.OpenAsync(endPoint, _options.LocalEndPoint, _options.Timeouts.Connect).ConfigureAwait(false);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                SmtpSessionLog.Connected(_logger, ServerName, endPoint.ToString(), LocalEndPoint?.ToString() ?? "?");
            }

            if (_options.TlsMode == SmtpTlsMode.Implicit)
            {
                // RFC 8314 section 3.3: the handshake comes first; the greeting is read over TLS.
                _connection.Phase = SmtpPhase.StartTls;
                await HandshakeAsync().ConfigureAwait(false);
            }

            _connection.Phase = SmtpPhase.Greeting;
            var greeting = await _connection.ReadReplyAsync(_options.Timeouts.Greeting).ConfigureAwait(false);
            Greeting = greeting;
            if (greeting.Code != 220)
            {
                // RFC 5321 section 3.1: after a 554 greeting the client should send QUIT; a 421 closes anyway.
                await CloseAfterRefusalAsync(greeting).ConfigureAwait(false);
                return ConnectFailed(greeting, new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Greeting, $"{ServerName} refused the connection in its greeting.", greeting));
            }

            var failure = await HelloAsync().ConfigureAwait(false);
            if (failure is null && (_options.TlsMode is SmtpTlsMode.Opportunistic or SmtpTlsMode.Required || _requirement.RequiresTls))
            {
                failure = await StartTlsAsync().ConfigureAwait(false);
            }

            if (failure is null && _authentication is not null)
            {
                failure = await _authentication.RunAsync(Capabilities, _tlsValidated).ConfigureAwait(false);
                if (failure is not null && !_connection.IsClosed)
                {
                    // Whatever the reason, this connection carries no mail unauthenticated.
                    await QuitQuietlyAsync().ConfigureAwait(false);
                }
            }

            if (failure is not null)
            {
                return ConnectFailed(greeting, failure);
            }

            MoveTo(SmtpSessionState.Ready);
            return new SmtpConnectResult(greeting, null);
        }
        catch (SmtpFailureException e)
        {
            return ConnectFailed(Greeting, e.Failure);
        }
    }

    private async ValueTask<SmtpFailure?> HelloAsync()
    {
        _connection.Phase = SmtpPhase.Hello;
        var reply = await _connection.CommandAsync("EHLO", _options.HeloName, _options.Timeouts.Command).ConfigureAwait(false);
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
                reply = await _connection.CommandAsync("HELO", _options.HeloName, _options.Timeouts.Command).ConfigureAwait(false);
            }
            catch (SmtpFailureException e)
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
        _connection.Phase = SmtpPhase.StartTls;
        var required = _options.TlsMode == SmtpTlsMode.Required || _requirement.RequiresTls;

        // A policy (MTA-STS testing included) wants to hear that TLS was missing; opportunistic TLS without one does not.
        var reported = required || _requirement.CertificateCheck is not null;
        if (!Capabilities.Supports(SmtpExtensions.StartTls))
        {
            if (reported)
            {
                Tls = new TlsOutcome(true, _requirement.NoTlsFailure(offered: false), $"{ServerName} does not offer STARTTLS.");
            }

            if (!required)
            {
                return null;
            }

            // RFC 8461 section 5 and RFC 7672 section 2.2: no plaintext when a policy requires TLS.
            await QuitQuietlyAsync().ConfigureAwait(false);
            return new SmtpFailure(SmtpFailureKind.TlsUnavailable, SmtpPhase.StartTls, $"TLS is required but {ServerName} does not offer STARTTLS.");
        }

        var reply = await _connection.CommandAsync("STARTTLS", _options.Timeouts.Command).ConfigureAwait(false);
        if (reply.Code != 220)
        {
            CheckClosing(reply);
            if (reported)
            {
                Tls = new TlsOutcome(true, _requirement.NoTlsFailure(offered: false), $"{ServerName} refused STARTTLS: {reply}");
            }

            if (!required && State != SmtpSessionState.Closed)
            {
                // RFC 3207 section 4: the client may go on without TLS.
                SmtpSessionLog.StartTlsRefused(_logger, ServerName, reply.ToString());
                return null;
            }

            await QuitQuietlyAsync().ConfigureAwait(false);
            return new SmtpFailure(SmtpFailureKind.TlsUnavailable, SmtpPhase.StartTls, $"TLS is required but {ServerName} refused STARTTLS.", reply);
        }

        try
        {
            await HandshakeAsync().ConfigureAwait(false);
        }
        catch (SmtpFailureException e) when (_certificateFailure is { } refused && e.Failure.Kind == SmtpFailureKind.TlsHandshakeFailed)
        {
            // The policy's certificate check refused: say why (the platform only says the callback rejected it).
            var failure = new SmtpFailure(e.Failure.Kind, e.Failure.Phase, $"The TLS handshake with {ServerName} failed: its certificate was refused ({TlsNames.Of(refused)}: {CertificateRefusal(refused)}); nothing was sent.", e.Failure.Reply, e.Failure.Exception);
            Tls = new TlsOutcome(true, refused, failure.Message);
            throw new SmtpFailureException(failure);
        }
        catch (SmtpFailureException e)
        {
            // The certificate check's verdict when it refused; otherwise the handshake itself failed.
            Tls = new TlsOutcome(true, _certificateFailure ?? _requirement.NoTlsFailure(offered: true), e.Failure.Message);
            throw;
        }

        // RFC 3207 section 4.2: forget what was learnt before TLS and ask again.
        Capabilities = SmtpCapabilities.Minimal;
        _connection.Phase = SmtpPhase.Hello;
        var ehlo = await _connection.CommandAsync("EHLO", _options.HeloName, _options.Timeouts.Command).ConfigureAwait(false);
        if (ehlo.Code != 250)
        {
            await CloseAfterRefusalAsync(ehlo).ConfigureAwait(false);
            return new SmtpFailure(SmtpFailureKind.Rejected, SmtpPhase.Hello, $"{ServerName} refused EHLO after STARTTLS.", ehlo);
        }

        Capabilities = SmtpCapabilities.Parse(ehlo);
        return null;
    }

    private async ValueTask HandshakeAsync()
    {
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = ServerName,
            EnabledSslProtocols = _options.SslProtocols,
            RemoteCertificateValidationCallback = CertificateValidation(),
        };
        var tls = await _connection.UpgradeToTlsAsync(authentication, _options.Timeouts.Command).ConfigureAwait(false);

        // Validated: the platform's chain and name check, or the application's own callback (a pinned key), accepted it.
        _tlsValidated = _options.TlsMode is SmtpTlsMode.Required or SmtpTlsMode.Implicit && (_options.CertificateValidationCallback is not null || _options.ValidateCertificate);
        var kind = _requirement.CertificateCheck is { } check && _certificateFailure is null ? check.PostureOnSuccess
            : _requirement.CertificateCheck is null && _requirement.Kind == TlsRequirementKind.Opportunistic && _tlsValidated ? TlsPostureKind.PkixValidated
            : TlsPostureKind.Unauthenticated;
        Posture = new TlsPosture(kind, tls.SslProtocol, tls.NegotiatedCipherSuite);

        // Every handshake is counted (TLS-RPT's no-policy-found sessions too); a failure an observed check found (MTA-STS
        // testing) is reported while the session goes on.
        Tls = new TlsOutcome(true, _certificateFailure, _certificateFailure is null ? null : $"The certificate of {ServerName} did not pass the policy's check ({_certificateFailure}); delivered anyway (testing).");
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            SmtpSessionLog.TlsEstablished(_logger, ServerName, tls.SslProtocol.ToString(), tls.NegotiatedCipherSuite.ToString());
        }
    }

    private RemoteCertificateValidationCallback? CertificateValidation()
    {
        if (_requirement.CertificateCheck is { } check)
        {
            // The policy's check (MTA-STS PKIX against the MX name, DANE TLSA): enforced, or only observed (testing).
            var enforce = _requirement.EnforcesCertificate;
            return (_, certificate, chain, errors) =>
            {
                _certificateFailure = certificate is X509Certificate2 leaf ? check.Check(ServerName, leaf, chain, errors) : TlsFailureType.ValidationFailure;
                return _certificateFailure is null || !enforce;
            };
        }

        if (_requirement.Kind == TlsRequirementKind.EncryptionRequired)
        {
            // DANE with no usable TLSA record (RFC 7672 section 2.2): encryption is mandatory, authentication is not possible.
            return static (_, _, _, _) => true;
        }

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
    // Ready: NOOP and QUIT (a transaction is the SmtpTransaction)
    // ---------------------------------------------------------------------------------------------------------

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> NoOpCoreAsync()
    {
        try
        {
            _connection.Phase = SmtpPhase.Other;
            var reply = await _connection.CommandAsync("NOOP", _options.Timeouts.Command).ConfigureAwait(false);
            CheckClosing(reply);
            return reply.Code == 250;
        }
        catch (SmtpFailureException)
        {
            return false;
        }
    }

    private async ValueTask<bool> QuitCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            _connection.Phase = SmtpPhase.Other;
            await _connection.CommandAsync("QUIT", QuitTimeout).ConfigureAwait(false);
        }
        catch (SmtpFailureException)
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
        }

        return true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // -> Closed
    // ---------------------------------------------------------------------------------------------------------

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
            var previous = _connection.Phase;
            _connection.Phase = SmtpPhase.Other;
            await _connection.CommandAsync("QUIT", QuitTimeout).ConfigureAwait(false);
            _connection.Phase = previous;
        }
        catch (SmtpFailureException)
        {
        }

        Abort();
    }

    /// <summary>
    /// How long to wait for the reply to QUIT: the command timeout, at most 30 seconds. The message is already
    /// delivered or refused by then; waiting minutes for a goodbye only holds a socket.
    /// </summary>
    internal TimeSpan QuitTimeout => _options.Timeouts.Command < TimeSpan.FromSeconds(30) && _options.Timeouts.Command != Timeout.InfiniteTimeSpan ? _options.Timeouts.Command : TimeSpan.FromSeconds(30);

    private SmtpConnectResult ConnectFailed(SmtpReply? greeting, SmtpFailure failure)
    {
        Abort();
        return new SmtpConnectResult(greeting, failure);
    }

    /// <summary>Why a policy's certificate check refused a certificate, in words (the TLS-RPT name goes beside it).</summary>
    private static string CertificateRefusal(TlsFailureType failure) => failure switch
    {
        TlsFailureType.CertificateExpired => "it has expired or is not yet valid",
        TlsFailureType.CertificateHostMismatch => "it does not name the MX host",
        TlsFailureType.CertificateNotTrusted => "it is not issued by a trusted certificate authority",
        TlsFailureType.TlsaInvalid => "it matches none of the host's TLSA records",
        _ => "it did not validate",
    };

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
        Credentials = o.Credentials,
        AuthMechanism = o.AuthMechanism,
        IsConfiguredRelay = o.IsConfiguredRelay,
    };
}

/// <summary>Where a <see cref="SmtpSession"/> is in its conversation.</summary>
internal enum SmtpSessionState
{
    /// <summary>Created; not yet connected (or connecting).</summary>
    New,

    /// <summary>Connected and greeted; the server holds no transaction.</summary>
    Ready,

    /// <summary>The server accepted MAIL FROM and holds the transaction, whose message did not end: the next transaction begins with RSET.</summary>
    InTransaction,

    /// <summary>The content of a message is being sent (after 354, or between BDAT chunks).</summary>
    InData,

    /// <summary>After QUIT, a 421, an I/O error, a timeout, a protocol violation or cancellation; never usable again.</summary>
    Closed,
}
