using System;
using System.IO;
using System.Net.Sockets;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DirectMail.Benchmarks.Infrastructure;
using DirectMail.Smtp;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace DirectMail.Benchmarks;

/// <summary>
/// One message per operation over one connection that stays open for the whole run, into Postfix's smtp-sink on
/// 127.0.25.20: DirectMail's <see cref="SmtpSession"/> with default options against MailKit's <see cref="SmtpClient"/>
/// on a socket with NoDelay (the baseline; MailKit's default socket stalls ~40 ms per message, see
/// <see cref="SmtpNagleBenchmarks"/>). Both send the same bytes.
/// </summary>
[MemoryDiagnoser]
public class SmtpSendBenchmarks
{
    private SmtpSink _sink = null!;
    private SmtpSession _session = null!;
    private SmtpEnvelope _envelope = null!;
    private SmtpContent _content = null!;
    private SmtpClient _mailKit = null!;
    private MimeMessage _message = null!;
    private MailboxAddress _sender = null!;
    private MailboxAddress[] _recipients = null!;

    /// <summary>The message size in octets: 1 KB, 10 KB, 1 MB.</summary>
    [Params(1024, 10 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _sink = SmtpSink.Start();
        var bytes = BenchmarkMessages.Create(Size);

        _session = new SmtpSession(new SmtpSessionOptions { HeloName = BenchmarkMessages.HeloName });
        var connected = await _session.ConnectAsync(_sink.EndPoint);
        if (!connected.IsSuccess)
        {
            throw new InvalidOperationException($"DirectMail could not connect to the sink: {connected}");
        }

        _envelope = new SmtpEnvelope(BenchmarkMessages.Sender, BenchmarkMessages.Recipient);
        _content = SmtpContent.FromBytes(bytes);

        _message = MailKitClients.Load(bytes);
        _sender = MailboxAddress.Parse(BenchmarkMessages.Sender);
        _recipients = [MailboxAddress.Parse(BenchmarkMessages.Recipient)];
        _mailKit = await MailKitClients.ConnectAsync(_sink, noDelay: true);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _session.QuitAsync();
        await _session.DisposeAsync();
        await _mailKit.DisconnectAsync(quit: true);
        _mailKit.Dispose();
        _sink.Dispose();
    }

    [Benchmark(Baseline = true, Description = "MailKit (NoDelay)")]
    public Task<string> MailKitNoDelay() => _mailKit.SendAsync(FormatOptions.Default, _message, _sender, _recipients);

    [Benchmark(Description = "DirectMail")]
    public async Task<SmtpTransactionOutcome> DirectMail()
    {
        var result = await _session.SendAsync(_envelope, _content);
        if (!result.IsDelivered)
        {
            throw new InvalidOperationException($"DirectMail did not deliver: {result}");
        }

        return result.Outcome;
    }
}

/// <summary>MailKit clients connected to the sink, with or without TCP_NODELAY.</summary>
internal static class MailKitClients
{
    /// <summary>Parses the message for MailKit and checks that MailKit will write exactly the same bytes.</summary>
    public static MimeMessage Load(byte[] bytes)
    {
        var message = MimeMessage.Load(new MemoryStream(bytes));
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        using var written = new MemoryStream();
        message.WriteTo(options, written);
        if (!written.ToArray().AsSpan().SequenceEqual(bytes))
        {
            throw new InvalidOperationException("MimeKit does not write the message back byte for byte; the clients would not send the same bytes.");
        }

        return message;
    }

    public static async Task<SmtpClient> ConnectAsync(SmtpSink sink, bool noDelay)
    {
        var client = new SmtpClient { LocalDomain = BenchmarkMessages.HeloName };
        if (noDelay)
        {
            var socket = new Socket(sink.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(sink.EndPoint);
            await client.ConnectAsync(socket, sink.EndPoint.Address.ToString(), sink.EndPoint.Port, SecureSocketOptions.None);
        }
        else
        {
            await client.ConnectAsync(sink.EndPoint.Address.ToString(), sink.EndPoint.Port, SecureSocketOptions.None);
        }

        return client;
    }
}
