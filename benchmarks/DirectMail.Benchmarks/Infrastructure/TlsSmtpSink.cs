using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Benchmarks.Infrastructure;

/// <summary>
/// An in-process SMTP sink with TLS, for the relay benchmark: on one port it greets in plaintext and offers STARTTLS
/// (an MX on the direct TLS path), on another it speaks implicit TLS and requires AUTH PLAIN (a submission relay). Both
/// answer the same way and throw the mail away, so the two paths differ only by what the client does. It counts
/// connections and AUTH commands.
/// </summary>
public sealed class TlsSmtpSink : IDisposable
{
    private readonly Socket _direct;
    private readonly Socket _relay;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;
    private int _auths;

    public TlsSmtpSink(IPAddress address, int directPort, int relayPort)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sink.bench.test", key, HashAlgorithmName.SHA256);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        Thumbprint = _certificate.GetCertHashString();
        _direct = Listen(new IPEndPoint(address, directPort));
        _relay = Listen(new IPEndPoint(address, relayPort));
        _ = AcceptAsync(_direct, implicitTls: false);
        _ = AcceptAsync(_relay, implicitTls: true);
        DirectEndPoint = new IPEndPoint(address, directPort);
        RelayEndPoint = new IPEndPoint(address, relayPort);
    }

    public IPEndPoint DirectEndPoint { get; }

    public IPEndPoint RelayEndPoint { get; }

    /// <summary>The certificate's SHA-1 thumbprint, for the client to pin.</summary>
    public string Thumbprint { get; }

    public int Connections => Volatile.Read(ref _connections);

    public int Auths => Volatile.Read(ref _auths);

    public void Dispose()
    {
        _stop.Cancel();
        _direct.Dispose();
        _relay.Dispose();
        _certificate.Dispose();
    }

    private static Socket Listen(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(endPoint);
        socket.Listen(512);
        return socket;
    }

    private async Task AcceptAsync(Socket listener, bool implicitTls)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            client.NoDelay = true;
            _ = ServeAsync(client, implicitTls);
        }
    }

    private async Task ServeAsync(Socket socket, bool implicitTls)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (implicitTls)
            {
                stream = await TlsAsync(stream);
            }

            var reader = new LineReader(stream);
            await WriteAsync(stream, "220 sink.bench.test ESMTP\r\n");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await WriteAsync(stream, implicitTls || stream is SslStream
                            ? "250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"
                            : "250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
                        break;
                    case "STAR":
                        await WriteAsync(stream, "220 2.0.0 Ready to start TLS\r\n");
                        stream = await TlsAsync(stream);
                        reader = new LineReader(stream);
                        break;
                    case "AUTH":
                        Interlocked.Increment(ref _auths);
                        await WriteAsync(stream, "235 2.7.0 Authentication successful\r\n");
                        break;
                    case "DATA":
                        await WriteAsync(stream, "354 End data with <CR><LF>.<CR><LF>\r\n");
                        while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".")
                        {
                        }

                        await WriteAsync(stream, "250 2.0.0 Ok: queued as BENCH\r\n");
                        break;
                    case "QUIT":
                        await WriteAsync(stream, "221 2.0.0 Bye\r\n");
                        return;
                    default:
                        await WriteAsync(stream, "250 2.0.0 Ok\r\n");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private async Task<Stream> TlsAsync(Stream inner)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
        return tls;
    }

    private Task WriteAsync(Stream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token).AsTask();

    /// <summary>Lines from a stream, buffered; the replies to pipelined commands are written in order as their lines are read.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    var length = newline - _start;
                    var line = Encoding.ASCII.GetString(_buffer, _start, length > 0 && _buffer[newline - 1] == '\r' ? length - 1 : length);
                    _start = newline + 1;
                    return line;
                }

                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    return null;
                }

                _end += read;
            }
        }
    }
}
