using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Tests.Infrastructure;

/// <summary>
/// An SMTP server on a loopback address whose every move is scripted by the test: what it sends, when it stops
/// answering, when it drops the connection. It is how the tests produce the faults real servers produce only
/// sometimes (421 greetings, endless replies, resets mid-data). On a fixed address and port it stands in for an MX
/// host named in a test zone. It counts accepted connections (what a client really opened) and those still open.
/// </summary>
public sealed class ScriptedSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<ScriptedConnection, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _open;
    private int _maxOpen;
    private Exception? _scriptError;
    private bool _disposed;

    private ScriptedSmtpServer(Func<ScriptedConnection, Task> script, IPEndPoint endPoint)
    {
        _script = script;
        _listener = new TcpListener(endPoint);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>The address clients connect to.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>How many connections were accepted.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>How many accepted connections are still open (their script has not ended).</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>The most connections open at once.</summary>
    public int MaxOpen => Volatile.Read(ref _maxOpen);

    /// <summary>
    /// The first exception a script threw (an assertion inside the script, a read that timed out), if any. A script's
    /// expectation is an assertion: <see cref="DisposeAsync"/> and <see cref="WaitForScriptsAsync"/> rethrow it, so a
    /// test fails when the client did not do what its server's script expected, whether or not it waits for the scripts.
    /// A script that ends because the test stopped the server (disposed it) has not failed.
    /// </summary>
    public Exception? ScriptError => Volatile.Read(ref _scriptError);

    public static ScriptedSmtpServer Start(Func<ScriptedConnection, Task> script) => new(script, new IPEndPoint(IPAddress.Parse("127.0.25.1"), 0));

    /// <summary>Starts a server on a given address and port (several MX hosts of a test share one port).</summary>
    public static ScriptedSmtpServer Start(Func<ScriptedConnection, Task> script, IPEndPoint endPoint) => new(script, endPoint);

    /// <summary>
    /// Waits until every accepted connection's script has ended (so no connection is open any more), and rethrows a
    /// script's failure.
    /// </summary>
    public async Task WaitForScriptsAsync(TimeSpan? timeout = null)
    {
        var all = Task.WhenAll(_connections.ToArray());
        if (await Task.WhenAny(all, Task.Delay(timeout ?? TestTimeouts.Await)) != all)
        {
            throw new TimeoutException($"{Open} scripted SMTP connection(s) to {EndPoint} did not finish.");
        }

        if (ScriptError is not null)
        {
            throw new InvalidOperationException($"The script of {EndPoint} failed: {ScriptError.Message}", ScriptError);
        }
    }

    /// <summary>
    /// Waits until every script has ended and returns the failure one of them had, for a test whose client must leave
    /// before the script's end (it refused the server's certificate, it stopped reading an endless line): the failure is
    /// then the evidence, and it is taken (disposing the server no longer rethrows it). Fails when no script failed.
    /// </summary>
    public async Task<Exception> WaitForScriptFailureAsync()
    {
        await Task.WhenAll(_connections.ToArray()).WaitAsync(TestTimeouts.Await);
        var error = Interlocked.Exchange(ref _scriptError, null);
        Assert.True(error is not null, $"every script of {EndPoint} ran to its end");
        return error!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception)
        {
        }

        try
        {
            await Task.WhenAll(_connections.ToArray()).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
        }

        _stop.Dispose();
        if (ScriptError is { } error)
        {
            throw new InvalidOperationException($"The script of {EndPoint} failed: {error.Message}", error);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            var open = Interlocked.Increment(ref _open);
            int max;
            while (open > (max = Volatile.Read(ref _maxOpen)) && Interlocked.CompareExchange(ref _maxOpen, open, max) != max)
            {
            }

            _connections.Add(Task.Run(async () =>
            {
                try
                {
                    await using var connection = new ScriptedConnection(socket, _stop.Token);
                    await _script(connection);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    // The test is over and stopped the server: the script was cut short, it did not fail.
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _scriptError, e, null);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }));
        }
    }
}

/// <summary>One accepted connection, driven by a test script.</summary>
public sealed class ScriptedConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationToken _stop;
    private readonly MemoryStream _received = new();
    private Stream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public ScriptedConnection(Socket socket, CancellationToken stop)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stop = stop;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Every byte the client sent so far (before TLS in plaintext, after it decrypted).</summary>
    public byte[] Received => _received.ToArray();

    public string ReceivedText => Encoding.UTF8.GetString(Received);

    public Task SendAsync(string raw) => _stream.WriteAsync(Encoding.UTF8.GetBytes(raw), _stop).AsTask();

    public Task SendBytesAsync(byte[] raw) => _stream.WriteAsync(raw, _stop).AsTask();

    public Task ReplyAsync(string line) => SendAsync(line + "\r\n");

    /// <summary>
    /// The opening every plain session script shares: the <c>220 mx.test</c> greeting, the client's EHLO, and
    /// <paramref name="ehloReply"/> (its lines joined by CRLF, without the last one).
    /// </summary>
    public async Task GreetAsync(string ehloReply)
    {
        await ReplyAsync("220 mx.test");
        await ExpectAsync("EHLO");
        await ReplyAsync(ehloReply);
    }

    /// <summary>Reads one line without its CRLF; null when the client closed the connection.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                var line = Encoding.UTF8.GetString(_buffer, _start, length > 0 && _buffer[newline - 1] == '\r' ? length - 1 : length);
                _start = newline + 1;
                return line;
            }

            try
            {
                if (!await FillAsync(cts.Token))
                {
                    return null;
                }
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                // The script expected a line: a client that sends none is a failure of the test, not a cancellation.
                throw new TimeoutException($"The client sent no line within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s.");
            }
        }
    }

    /// <summary>Reads the line and checks it starts with <paramref name="expected"/> (case-insensitive).</summary>
    public async Task<string> ExpectAsync(string expected)
    {
        var line = await ReadLineAsync() ?? throw new InvalidOperationException($"Expected '{expected}', the client closed the connection.");
        if (!line.StartsWith(expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Expected '{expected}...', got '{line}'.");
        }

        return line;
    }

    /// <summary>Reads DATA content up to and including CRLF.CRLF and returns it as sent (still dot-stuffed), without the terminator.</summary>
    public async Task<byte[]> ReadDataAsync()
    {
        var terminator = "\r\n.\r\n"u8.ToArray();
        var collected = new MemoryStream();
        var first = true;
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);

            // Content that is empty ends with ".\r\n" at once.
            if (first && span.Length >= 3 && span[..3].SequenceEqual(".\r\n"u8))
            {
                _start += 3;
                return [];
            }

            var index = span.IndexOf(terminator);
            if (index >= 0)
            {
                collected.Write(span[..(index + 2)]);
                _start += index + terminator.Length;
                return collected.ToArray();
            }

            if (span.Length > terminator.Length)
            {
                var keep = terminator.Length;
                collected.Write(span[..^keep]);
                _start = _end - keep;
                first = false;
            }

            if (!await FillAsync(_stop))
            {
                throw new EndOfStreamException("The client closed the connection inside DATA.");
            }
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> octets (BDAT chunks).</summary>
    public async Task<byte[]> ReadBytesAsync(int count)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_end == _start && !await FillAsync(_stop))
            {
                throw new EndOfStreamException("The client closed the connection inside a chunk.");
            }

            var take = Math.Min(count - filled, _end - _start);
            Array.Copy(_buffer, _start, result, filled, take);
            _start += take;
            filled += take;
        }

        return result;
    }

    /// <summary>True when the client closed its side (EOF) within the timeout, having sent nothing more.</summary>
    public async Task<bool> ClientClosesAsync(TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        cts.CancelAfter(timeout);
        try
        {
            while (true)
            {
                if (_end > _start)
                {
                    return false;
                }

                if (!await FillAsync(cts.Token))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>True when nothing arrives within <paramref name="wait"/> (the client waits for a reply).</summary>
    public async Task<bool> NothingArrivesAsync(TimeSpan wait)
    {
        if (_end > _start)
        {
            return false;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        cts.CancelAfter(wait);
        try
        {
            await FillAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>Upgrades to TLS as the server, with a self-signed certificate.</summary>
    /// <param name="certificate">The server's certificate, with its key.</param>
    /// <param name="chain">The issuers sent after it (a DANE-TA server sends its trust anchor); null for none but what the platform's stores add.</param>
    public async Task StartTlsAsServerAsync(X509Certificate2 certificate, X509Certificate2Collection? chain = null)
    {
        _start = _end = 0;
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = chain is null
            ? new SslServerAuthenticationOptions { ServerCertificate = certificate }
            : new SslServerAuthenticationOptions { ServerCertificateContext = SslStreamCertificateContext.Create(certificate, chain, offline: true) };
        await tls.AuthenticateAsServerAsync(options, _stop);
        _stream = tls;
    }

    /// <summary>Closes gracefully (FIN).</summary>
    public void Close()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _stream.Dispose();
    }

    /// <summary>Resets the connection (RST), as a crashed server or a middlebox does.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _stream.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int read;
        try
        {
            read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        }
        catch (IOException)
        {
            return false;
        }

        if (read == 0)
        {
            return false;
        }

        _received.Write(_buffer, _end, read);
        _end += read;
        return true;
    }
}
