using System;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Smtp;

/// <summary>
/// An SMTP conversation driven one step at a time, for <c>directmail send --quit-after</c> (swaks' <c>--quit-after</c>):
/// connect, greeting, EHLO, STARTTLS, AUTH, MAIL FROM and RCPT TO are each a call of their own, so that the caller stops
/// after any of them and nothing further is sent. <see cref="SmtpSession"/> runs connect to AUTH as one call and a
/// transaction through to the message's end, which is right for sending and no use for probing.
/// </summary>
/// <remarks>
/// The steps use the session's transport (<see cref="SmtpConnection"/>, the same transcript events and the same session
/// logging scope, so a trace looks like a send's) and its AUTH exchange (<see cref="Auth.SmtpAuthExchange"/>: credentials
/// only over TLS with a validated certificate). Each step returns the server's reply, whatever its code: judging it is the
/// caller's business. A lost connection, a timeout or a failed handshake throws <see cref="SmtpFailureException"/>;
/// the caller's cancellation closes the connection and throws <see cref="OperationCanceledException"/>. The EHLO step does
/// not fall back to HELO: a probe reports what the server answered.
/// </remarks>
internal sealed class SmtpProbe : IAsyncDisposable
{
    private readonly SmtpSessionOptions _options;
    private readonly ILogger _logger;
    private readonly SmtpConnection _connection;
    private readonly Auth.SmtpAuthExchange? _authentication;
    private SmtpSessionScope? _scope;
    private bool _tlsValidated;

    /// <param name="options">The settings (checked now); the probe reads them and does not keep a copy.</param>
    /// <param name="logger">Receives the transcript at Trace level, as a session's.</param>
    public SmtpProbe(SmtpSessionOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _connection = new SmtpConnection(options, _logger);
        _authentication = options.Credentials is null ? null : new Auth.SmtpAuthExchange(_connection, options, _logger);
    }

    /// <summary>What the server announced in its last positive EHLO reply; minimal again right after a STARTTLS handshake.</summary>
    public SmtpCapabilities Capabilities { get; private set; } = SmtpCapabilities.Minimal;

    /// <summary>True once TLS protects the connection.</summary>
    public bool IsEncrypted => _connection.IsEncrypted;

    /// <summary>The TLS version, when encrypted.</summary>
    public SslProtocols? TlsProtocol => _connection.TlsProtocol;

    /// <summary>The local address of the connection.</summary>
    public IPEndPoint? LocalEndPoint => _connection.LocalEndPoint;

    /// <summary>The mechanism authenticated with.</summary>
    public SmtpAuthMechanism? AuthMechanism => _authentication?.Mechanism;

    /// <summary>True once the connection is closed (after a failure, a 421 or QUIT).</summary>
    public bool IsClosed => _connection.IsClosed;

    /// <summary>Opens the TCP connection and, with <see cref="SmtpTlsMode.Implicit"/>, the TLS handshake (RFC 8314): nothing is read or sent.</summary>
    public ValueTask<bool> ConnectAsync(IPEndPoint endPoint, string serverName, CancellationToken cancellationToken) =>
        RunAsync((endPoint, serverName), static async (probe, a) =>
        {
            probe._connection.ServerName = a.serverName;
            probe._scope = new SmtpSessionScope(a.serverName, a.endPoint);
            using var scope = probe._logger.BeginScope(probe._scope);
            probe._connection.Phase = SmtpPhase.Connect;
            await probe._connection.OpenAsync(a.endPoint, probe._options.LocalEndPoint, probe._options.Timeouts.Connect).ConfigureAwait(false);
            if (probe._options.TlsMode == SmtpTlsMode.Implicit)
            {
                await probe.HandshakeAsync().ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);

    /// <summary>Reads the greeting.</summary>
    public ValueTask<SmtpReply> GreetingAsync(CancellationToken cancellationToken) =>
        RunAsync(0, static (probe, _) =>
        {
            probe._connection.Phase = SmtpPhase.Greeting;
            return probe._connection.ReadReplyAsync(probe._options.Timeouts.Greeting);
        }, cancellationToken);

    /// <summary>Sends EHLO; a positive reply sets <see cref="Capabilities"/>.</summary>
    public ValueTask<SmtpReply> HelloAsync(CancellationToken cancellationToken) =>
        RunAsync(0, static async (probe, _) =>
        {
            probe._connection.Phase = SmtpPhase.Hello;
            var reply = await probe._connection.CommandAsync("EHLO", probe._options.HeloName, probe._options.Timeouts.Command).ConfigureAwait(false);
            if (reply.IsPositiveCompletion)
            {
                probe.Capabilities = SmtpCapabilities.Parse(reply);
            }

            return reply;
        }, cancellationToken);

    /// <summary>Sends STARTTLS and, after a 220, makes the TLS handshake (then EHLO is due again: <see cref="HelloAsync"/>).</summary>
    public ValueTask<SmtpReply> StartTlsAsync(CancellationToken cancellationToken) =>
        RunAsync(0, static async (probe, _) =>
        {
            probe._connection.Phase = SmtpPhase.StartTls;
            var reply = await probe._connection.CommandAsync("STARTTLS", probe._options.Timeouts.Command).ConfigureAwait(false);
            if (reply.Code == 220)
            {
                await probe.HandshakeAsync().ConfigureAwait(false);

                // RFC 3207 section 4.2: what was learnt before TLS is forgotten.
                probe.Capabilities = SmtpCapabilities.Minimal;
            }

            return reply;
        }, cancellationToken);

    /// <summary>Authenticates with the options' credentials (RFC 4954); null on success, else why not (with the server's reply when it gave one).</summary>
    /// <exception cref="InvalidOperationException">The options hold no credentials.</exception>
    public ValueTask<SmtpFailure?> AuthenticateAsync(CancellationToken cancellationToken)
    {
        var authentication = _authentication ?? throw new InvalidOperationException("The probe has no credentials to authenticate with.");
        return RunAsync(authentication, static (probe, auth) => auth.RunAsync(probe.Capabilities, probe._tlsValidated), cancellationToken);
    }

    /// <summary>Sends MAIL FROM with the envelope's sender (and SMTPUTF8 when the envelope needs it and the server offers it).</summary>
    public ValueTask<SmtpReply> MailAsync(SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return RunAsync(envelope, static async (probe, e) =>
        {
            var utf8 = probe.Capabilities.Supports(SmtpExtensions.SmtpUtf8) && NeedsSmtpUtf8(e);
            probe._connection.Phase = SmtpPhase.MailFrom;
            await probe._connection.AppendCommandAsync("MAIL FROM:<", e.WireSender, utf8 ? "> SMTPUTF8" : ">").ConfigureAwait(false);
            await probe._connection.FlushAsync(probe._options.Timeouts.Command).ConfigureAwait(false);
            return await probe._connection.ReadReplyAsync(probe._options.Timeouts.MailFrom).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Sends RCPT TO for the envelope's recipient at <paramref name="index"/>.</summary>
    public ValueTask<SmtpReply> RecipientAsync(SmtpEnvelope envelope, int index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return RunAsync((envelope, index), static async (probe, a) =>
        {
            probe._connection.Phase = SmtpPhase.RcptTo;
            await probe._connection.AppendCommandAsync("RCPT TO:<", a.envelope.GetWireRecipient(a.index), ">").ConfigureAwait(false);
            await probe._connection.FlushAsync(probe._options.Timeouts.Command).ConfigureAwait(false);
            return await probe._connection.ReadReplyAsync(probe._options.Timeouts.RcptTo).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Sends QUIT, waits for the reply (at most 30 seconds), and closes; never fails. Closed already: closes.</summary>
    public async ValueTask QuitAsync(CancellationToken cancellationToken)
    {
        if (!_connection.IsClosed)
        {
            try
            {
                await RunAsync(0, static (probe, _) =>
                {
                    probe._connection.Phase = SmtpPhase.Other;
                    var timeout = probe._options.Timeouts.Command < TimeSpan.FromSeconds(30) && probe._options.Timeouts.Command != Timeout.InfiniteTimeSpan ? probe._options.Timeouts.Command : TimeSpan.FromSeconds(30);
                    return probe._connection.CommandAsync("QUIT", timeout);
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpFailureException)
            {
                // Closing anyway.
            }
        }

        _connection.Abort();
    }

    /// <summary>Closes the connection without QUIT and returns the buffers.</summary>
    public ValueTask DisposeAsync()
    {
        _connection.Abort();
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }

    private static bool NeedsSmtpUtf8(SmtpEnvelope envelope)
    {
        if (envelope.SenderNeedsSmtpUtf8)
        {
            return true;
        }

        for (var i = 0; i < envelope.Recipients.Count; i++)
        {
            if (envelope.RecipientNeedsSmtpUtf8(i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One step: the caller's token linked to the I/O, the session's logging scope, cancellation closing the connection.</summary>
    private async ValueTask<TResult> RunAsync<TArgument, TResult>(TArgument argument, Func<SmtpProbe, TArgument, ValueTask<TResult>> step, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _connection.BeginOperation(cancellationToken);
        using var scope = _scope is null ? null : _logger.BeginScope(_scope);
        try
        {
            return await step(this, argument).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _connection.Abort();
            throw new OperationCanceledException("The probe was canceled; the connection is closed.", cancellationToken);
        }
        finally
        {
            _connection.EndOperation();
        }
    }

    private async ValueTask HandshakeAsync()
    {
        _connection.Phase = SmtpPhase.StartTls;
        var strict = _options.TlsMode is SmtpTlsMode.Required or SmtpTlsMode.Implicit;
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = _connection.ServerName,
            EnabledSslProtocols = _options.SslProtocols,

            // As the session: opportunistic TLS takes any certificate (RFC 7435); required and implicit validate it
            // unless told not to, or the application's callback decides.
            RemoteCertificateValidationCallback = !strict || !_options.ValidateCertificate && _options.CertificateValidationCallback is null
                ? static (_, _, _, _) => true
                : _options.CertificateValidationCallback,
        };
        await _connection.UpgradeToTlsAsync(authentication, _options.Timeouts.Command).ConfigureAwait(false);
        _tlsValidated = strict && (_options.CertificateValidationCallback is not null || _options.ValidateCertificate);
    }
}
