using System;
using System.Buffers;
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

namespace DirectMail.Smtp;

/// <summary>
/// The transport under one <see cref="SmtpSession"/>: the socket, the TLS upgrade, the read and write buffers, and
/// one resettable deadline for the I/O in flight, linked to the caller's token while an operation runs.
/// </summary>
/// <remarks>
/// Commands are appended to the write buffer and sent in one write per round trip; replies are parsed straight from
/// the read buffer, so pipelined replies that arrive together cost one read. Every I/O failure (a timeout, a broken
/// or closed connection, bytes that are not a reply) closes the connection and is thrown as a
/// <see cref="SmtpFailureException"/> carrying the typed failure; the caller's cancellation is thrown as
/// <see cref="OperationCanceledException"/>.
/// </remarks>
internal sealed class SmtpConnection
{
    private const int WriteBufferSize = 64 * 1024;
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly ILogger _logger;
    private readonly SmtpReplyParser _parser;
    private readonly TimeSpan _commandTimeout;
    private CancellationTokenSource _deadline = new();
    private CancellationTokenRegistration _cancellationRegistration;
    private CancellationToken _operationToken;
    private byte[] _readBuffer;
    private int _readStart;
    private int _readEnd;
    private byte[] _writeBuffer;
    private Socket? _socket;
    private Stream? _stream;
    private SslStream? _tls;

    public SmtpConnection(SmtpSessionOptions options, ILogger logger)
    {
        _logger = logger;
        _commandTimeout = options.Timeouts.Command;
        _parser = new SmtpReplyParser(options.MaxReplyLineLength, options.MaxReplyLines, options.MaxReplyBytes);
        _readBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(8192, options.MaxReplyLineLength * 2));
        _writeBuffer = ArrayPool<byte>.Shared.Rent(WriteBufferSize);
    }

    /// <summary>The server's name, for failure messages.</summary>
    public string ServerName { get; set; } = string.Empty;

    /// <summary>Where the conversation is; a failure is reported at this phase.</summary>
    public SmtpPhase Phase { get; set; }

    /// <summary>True once the connection was closed (by the session, or by a failure): it never opens again.</summary>
    public bool IsClosed { get; private set; }

    public bool IsEncrypted => _tls is not null && _tls.IsAuthenticated;

    public SslProtocols? TlsProtocol => IsEncrypted ? _tls!.SslProtocol : null;

    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Whether the open socket has TCP_NODELAY set; null when no socket is open (for the tests of the promise).</summary>
    internal bool? SocketNoDelay => _socket?.NoDelay;

    /// <summary>The caller's token of the running operation; default once the end of the message is on its way.</summary>
    public CancellationToken OperationToken => _operationToken;

    /// <summary>The write buffer: commands and encoded content are put here, and <see cref="WriteLength"/> octets of it are pending.</summary>
    public byte[] WriteBuffer => _writeBuffer;

    /// <summary>How many octets of <see cref="WriteBuffer"/> are pending (or reserved, for a BDAT header).</summary>
    public int WriteLength { get; set; }

    // ---------------------------------------------------------------------------------------------------------
    // Opening and TLS
    // ---------------------------------------------------------------------------------------------------------

    public async ValueTask OpenAsync(IPEndPoint endPoint, IPEndPoint? localEndPoint, TimeSpan timeout)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        {
            // Without TCP_NODELAY the last segment of each round trip waits for the peer's delayed ACK (~40 ms on
            // Linux): every pipelined command group and every message end would stall that long.
            NoDelay = true,
        };
        _socket = socket;
        try
        {
            if (localEndPoint is { } local)
            {
                socket.Bind(local);
            }

            _deadline.CancelAfter(timeout);
            await socket.ConnectAsync(endPoint, _deadline.Token).ConfigureAwait(false);
            ResetDeadline();
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"Connecting to {ServerName} ({endPoint}) took longer than {timeout}.");
        }
        catch (SocketException e)
        {
            throw Fail(SmtpFailureKind.ConnectFailed, $"Could not connect to {ServerName} ({endPoint}): {e.SocketErrorCode}.", e);
        }

        _stream = new NetworkStream(socket, ownsSocket: true);
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint;
    }

    /// <summary>Replaces the plaintext stream by TLS, after the server's 220 to STARTTLS.</summary>
    public async ValueTask<SslStream> UpgradeToTlsAsync(SslClientAuthenticationOptions authentication, TimeSpan timeout)
    {
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
        try
        {
            _deadline.CancelAfter(timeout);
            await tls.AuthenticateAsClientAsync(authentication, _deadline.Token).ConfigureAwait(false);
            ResetDeadline();
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"The TLS handshake with {ServerName} took longer than {timeout}.");
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            // After a failed handshake the connection's state is unknown; it cannot be used for plaintext either.
            throw Fail(SmtpFailureKind.TlsHandshakeFailed, $"The TLS handshake with {ServerName} failed: {e.Message}", e);
        }

        return tls;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Commands and replies
    // ---------------------------------------------------------------------------------------------------------

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SmtpReply> CommandAsync(string verb, TimeSpan timeout)
    {
        await AppendCommandAsync(verb, null).ConfigureAwait(false);
        await FlushAsync(timeout).ConfigureAwait(false);
        return await ReadReplyAsync(timeout).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SmtpReply> CommandAsync(string verb, string argument, TimeSpan timeout)
    {
        await AppendCommandAsync(verb + " ", argument, null).ConfigureAwait(false);
        await FlushAsync(timeout).ConfigureAwait(false);
        return await ReadReplyAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Appends a command line, first sending what is pending (within the command timeout) when the buffer has no room for it.</summary>
    public ValueTask AppendCommandAsync(string verb, string? argument, string? suffix = null)
    {
        var needed = verb.Length + 2 + (argument is null ? 0 : Encoding.UTF8.GetMaxByteCount(argument.Length)) + (suffix is null ? 0 : Encoding.UTF8.GetMaxByteCount(suffix.Length)) + 64;
        if (_writeBuffer.Length - WriteLength >= needed)
        {
            AppendCommand(verb, argument, suffix);
            return ValueTask.CompletedTask;
        }

        return FlushThenAppendAsync(verb, argument, suffix);
    }

    /// <summary>
    /// Appends a command line: the verb, the argument in UTF-8, the suffix, CRLF. Logged unless <paramref name="log"/>
    /// is false, for a caller that logs the line itself (it appends parameters first).
    /// </summary>
    public void AppendCommand(string verb, string? argument, string? suffix, bool log = true)
    {
        var span = _writeBuffer.AsSpan(WriteLength);
        var written = Encoding.ASCII.GetBytes(verb, span);
        if (argument is not null)
        {
            written += Encoding.UTF8.GetBytes(argument, span[written..]);
        }

        if (suffix is not null)
        {
            // UTF-8: an ORCPT in its RFC 6533 unitext form may carry non-ASCII characters (only under SMTPUTF8).
            written += Encoding.UTF8.GetBytes(suffix, span[written..]);
        }

        if (log && _logger.IsEnabled(LogLevel.Trace))
        {
            SmtpSessionLog.ClientLine(_logger, Encoding.UTF8.GetString(span[..written]));
        }

        CrLf.CopyTo(span[written..]);
        WriteLength += written + 2;
    }

    /// <summary>Sends what is pending in the write buffer, in one write.</summary>
    public ValueTask FlushAsync(TimeSpan timeout)
    {
        if (WriteLength == 0)
        {
            return ValueTask.CompletedTask;
        }

        var length = WriteLength;
        WriteLength = 0;
        return WriteAsync(_writeBuffer.AsMemory(0, length), timeout);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, TimeSpan timeout)
    {
        var stream = _stream ?? throw Fail(SmtpFailureKind.ConnectionLost, "The connection is closed.");
        try
        {
            _deadline.CancelAfter(timeout);
            await stream.WriteAsync(data, _deadline.Token).ConfigureAwait(false);
            ResetDeadline();
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"Sending to {ServerName} took longer than {timeout} ({Phase}).");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw Fail(SmtpFailureKind.ConnectionLost, $"The connection to {ServerName} broke while sending ({Phase}): {e.Message}", e);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SmtpReply> ReadReplyAsync(TimeSpan timeout)
    {
        // Replies already received (pipelined ones arrive together) are parsed without touching the socket.
        var reply = TryParseBuffered();
        if (reply is not null)
        {
            return reply;
        }

        var stream = _stream ?? throw Fail(SmtpFailureKind.ConnectionLost, "The connection is closed.");

        // One deadline for the whole reply: a server that trickles one octet at a time cannot extend it.
        _deadline.CancelAfter(timeout);
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

                var read = await stream.ReadAsync(_readBuffer.AsMemory(_readEnd), _deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw Fail(SmtpFailureKind.ConnectionLost, $"{ServerName} closed the connection ({Phase}).");
                }

                _readEnd += read;
                reply = TryParseBuffered();
                if (reply is not null)
                {
                    ResetDeadline();
                    return reply;
                }
            }
        }
        catch (OperationCanceledException) when (!_operationToken.IsCancellationRequested)
        {
            throw Fail(SmtpFailureKind.TimedOut, $"{ServerName} did not reply within {timeout} ({Phase}).");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw Fail(SmtpFailureKind.ConnectionLost, $"The connection to {ServerName} broke while reading ({Phase}): {e.Message}", e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The deadline, the caller's cancellation, closing
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>Links the caller's token to the deadline for one operation: cancelling it cancels the I/O in flight.</summary>
    public void BeginOperation(CancellationToken cancellationToken)
    {
        if (_deadline.IsCancellationRequested)
        {
            // A caller's token fired just after the previous operation ended; this operation gets a fresh source.
            _deadline.Dispose();
            _deadline = new CancellationTokenSource();
        }

        _operationToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellationRegistration = cancellationToken.UnsafeRegister(static state => ((SmtpConnection)state!).CancelIo(), this);
        }
    }

    public void EndOperation()
    {
        _cancellationRegistration.Dispose();
        _cancellationRegistration = default;
        _operationToken = default;
    }

    /// <summary>Stops honouring the caller's token for the rest of the operation; throws when it has already fired.</summary>
    public void DetachCancellation()
    {
        // Dispose waits for a callback that is running, so CancelIo cannot fire after this line.
        _cancellationRegistration.Dispose();
        _cancellationRegistration = default;
        _operationToken.ThrowIfCancellationRequested();
        _operationToken = default;
    }

    /// <summary>Builds the failure at the current phase, logs it, closes the connection, and returns the exception to throw.</summary>
    public SmtpFailureException Fail(SmtpFailureKind kind, string message, Exception? exception = null, SmtpProtocolViolation? violation = null)
    {
        var failure = new SmtpFailure(kind, Phase, message, exception: exception, protocolViolation: violation);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            SmtpSessionLog.Failed(_logger, ServerName, failure.ToString());
        }

        Abort();
        return new SmtpFailureException(failure);
    }

    /// <summary>Closes the socket (and TLS); the connection is closed for good.</summary>
    public void Abort()
    {
        IsClosed = true;
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

    public void ReturnBuffers()
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

    /// <summary>Returns the buffers and the deadline's token source; only when no operation runs.</summary>
    public void Dispose()
    {
        ReturnBuffers();
        _deadline.Dispose();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushThenAppendAsync(string verb, string? argument, string? suffix)
    {
        await FlushAsync(_commandTimeout).ConfigureAwait(false);
        AppendCommand(verb, argument, suffix);
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
            throw Fail(SmtpFailureKind.ProtocolViolation, e.Message, e, e.Violation);
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

    private void CancelIo()
    {
        try
        {
            _deadline.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void ResetDeadline()
    {
        // A token source that has fired cannot be reset; it only fires on failure, which closes the connection.
        _deadline.TryReset();
    }
}
