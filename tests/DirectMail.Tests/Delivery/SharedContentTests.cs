using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.IO;
using DirectMail.Mime;
using DirectMail.MimeKit;
using DirectMail.Smtp;
using DirectMail.Tests.Dkim;
using DirectMail.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;
using MimeKit;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// One content sent to three domains at once, each on a different real server (Postfix's smtp-sink, aiosmtpd, and
/// the scripted server), for every kind of content, with and without DKIM: what each server stored must be the
/// expected message, byte for byte. Stops: several deliveries reading one shared stream at once (two copies empty, a
/// third with blocks repeated, an attachment split between copies, all reported delivered), MimeKit's Prepare run
/// for several servers at once, message spools readable by other users or left behind, and NUL octets on the wire.
/// Uses the addresses of c1..c3.deliver.test, shared with the concurrency test: same non-parallel collection.
/// </summary>
[Collection("SocketCountingCollection")]
[Trait("Category", "Integration")]
public sealed class SharedContentTests : IClassFixture<DeliveryDnsFixture>, IClassFixture<SharedContentTests.Servers>
{
    private const int Size = 2_500_000;
    private static readonly DateTimeOffset SigningTime = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Lazy<string> DkimKey = new(() => DkimKeyGenerator.Generate(1024).PrivateKeyPem);
    private static readonly SmtpCapabilities EightBit = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME", "SMTPUTF8" }));

    private readonly Servers _servers;

    public SharedContentTests(Servers servers) => _servers = servers;

    public static TheoryData<string, bool> Kinds()
    {
        var data = new TheoryData<string, bool>();
        foreach (var kind in new[] { "bytes", "stream-seekable", "stream-forward-only", "raw-stream-seekable", "raw-stream-forward-only", "raw-file", "email-streams", "email-forward-only-attachment", "mimekit-stream-attachment" })
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task One_content_to_three_domains_on_three_servers_arrives_whole_and_identical_at_each(string kind, bool dkim)
    {
        var id = "shared-" + kind + (dkim ? "-dkim-" : "-") + Guid.NewGuid().ToString("N")[..8];
        var (content, expectedAfterSend, attachment) = Make(kind, id);
        var envelope = new SmtpEnvelope(Sender, [id + "@c1.deliver.test", id + "@c2.deliver.test", id + "@c3.deliver.test"]);
        var file = kind == "raw-file" ? _servers.Temp(id) : null;
        if (file is not null)
        {
            await File.WriteAllBytesAsync(file, RawMessageBytes(id));
            content = SmtpContent.FromFile(file);
        }

        DeliveryReport report;
        await using (var mailer = Mailer(dkim))
        {
            report = await mailer.SendAsync(envelope, content);
        }

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));

        var copies = _servers.Stored(id);
        Assert.Equal(3, copies.Count);

        // Without an independent expectation (a forward-only attachment cannot be written again), the copies must
        // equal each other, and the attachment each one carries the original.
        var expected = await expectedAfterSend() ?? copies[0].Content;
        if (dkim && expected != copies[0].Content)
        {
            using var signer = new DkimSigner(DkimOptions(), new FakeTimeProvider(SigningTime));
            expected = await DkimTestSupport.WireAsync(signer.Sign(SmtpContent.FromBytes(expected)), EightBit);
        }

        Assert.Equal(dkim ? 1 : 0, DkimTestSupport.Signatures(expected).Length);
        foreach (var (server, bytes) in copies)
        {
            Assert.True(bytes.Length == expected.Length, $"{server} stored {bytes.Length} octets, {expected.Length} expected");
            Assert.True(expected.AsSpan().SequenceEqual(bytes), $"{server} stored other octets than expected (first difference at {FirstDifference(expected, bytes)})");
            if (attachment is not null)
            {
                // What the recipient opens: the attachment, decoded, is the original.
                using var parsed = await MimeMessage.LoadAsync(new MemoryStream(bytes));
                var part = parsed.Attachments.OfType<MimePart>().Single(p => p.FileName == "data.bin");
                using var decoded = new MemoryStream();
                await part.Content!.DecodeToAsync(decoded);
                Assert.True(attachment.AsSpan().SequenceEqual(decoded.ToArray()), $"{server}: the attachment differs from the original");
            }
        }
    }

    [Theory]
    [InlineData("stream-forward-only")]
    [InlineData("raw-stream-forward-only")]
    [InlineData("email-forward-only-attachment")]
    public async Task Forward_only_content_to_one_domain_is_written_whole_for_every_transaction(string kind)
    {
        // Stops: the second transaction of one domain (a batch, or a fallback to the next MX) finding the caller's
        // forward-only stream already read, and the recipients deferred.
        var id = "batch-" + kind + "-" + Guid.NewGuid().ToString("N")[..8];
        var (content, _, attachment) = Make(kind, id);
        var envelope = new SmtpEnvelope(Sender, [id + "-1@c3.deliver.test", id + "-2@c3.deliver.test"]);
        var mails = DeliveryTestKit.Count(_servers.Dialogue, "MAIL");

        await using (var mailer = new DirectMailer(Options(o => o.MaxRecipientsPerTransaction = 1)))
        {
            var report = await mailer.SendAsync(envelope, content);
            Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        }

        Assert.Equal(mails + 2, DeliveryTestKit.Count(_servers.Dialogue, "MAIL"));
        var copies = _servers.Stored(id);
        Assert.Equal(2, copies.Count);
        Assert.Equal(copies[0].Content, copies[1].Content);
        if (attachment is null)
        {
            Assert.Equal(DkimTestSupport.ToWire(RawMessageBytes(id)), copies[0].Content);
        }
    }

    [Fact]
    public async Task Spool_file_is_owner_only_never_visible_by_name_and_closed_after_the_send()
    {
        // Stops: a message spooled to a 0644 file in /tmp (any local user reads the mail), or a spool left behind.
        var id = "spool-" + Guid.NewGuid().ToString("N")[..8];
        var files = new ConcurrentQueue<(SafeFileHandle Handle, string Path, UnixFileMode Mode, bool Visible)>();
        ContentSpool.FileCreated.Value = (handle, path) => files.Enqueue((handle, path, ModeOf(handle), File.Exists(path)));
        try
        {
            var envelope = new SmtpEnvelope(Sender, [id + "@c1.deliver.test", id + "@c2.deliver.test", id + "@c3.deliver.test"]);
            await using (var mailer = Mailer(dkim: false))
            {
                var report = await mailer.SendAsync(envelope, SmtpContent.FromStream(new ForwardOnlyStream(RawMessageBytes(id))));
                Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
            }
        }
        finally
        {
            ContentSpool.FileCreated.Value = null;
        }

        var file = Assert.Single(files);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, file.Mode);
        Assert.StartsWith(Path.GetTempPath(), file.Path, StringComparison.Ordinal);
        Assert.False(file.Visible, "the spool file could be opened by its name");
        Assert.False(File.Exists(file.Path));
        Assert.True(file.Handle.IsClosed, "the spool file is still open after the send");
        Assert.Equal(3, _servers.Stored(id).Count);
    }

    [Fact]
    public async Task Spool_file_is_closed_when_the_source_fails_and_nothing_is_sent()
    {
        var id = "spoolfail-" + Guid.NewGuid().ToString("N")[..8];
        var handles = new ConcurrentQueue<SafeFileHandle>();
        var accepted = _servers.Scripted.Accepted;
        ContentSpool.FileCreated.Value = (handle, _) => handles.Enqueue(handle);
        try
        {
            var envelope = new SmtpEnvelope(Sender, [id + "@c1.deliver.test", id + "@c2.deliver.test", id + "@c3.deliver.test"]);
            await using var mailer = Mailer(dkim: false);
            var source = new ForwardOnlyStream(RawMessageBytes(id), failAfter: 1_500_000);
            var e = await Assert.ThrowsAsync<IOException>(() => mailer.SendAsync(envelope, SmtpContent.FromStream(source)));
            Assert.Equal(ForwardOnlyStream.FailureMessage, e.Message);
        }
        finally
        {
            ContentSpool.FileCreated.Value = null;
        }

        var handle = Assert.Single(handles);
        Assert.True(handle.IsClosed, "the spool file is still open after the failed send");
        Assert.Equal(accepted, _servers.Scripted.Accepted);
        Assert.Empty(_servers.Stored(id));
    }

    [Fact]
    public async Task Spool_file_is_closed_when_the_send_is_canceled_while_the_content_is_read()
    {
        var id = "spoolcancel-" + Guid.NewGuid().ToString("N")[..8];
        var handles = new ConcurrentQueue<SafeFileHandle>();
        ContentSpool.FileCreated.Value = (handle, _) => handles.Enqueue(handle);
        using var cancel = new CancellationTokenSource();
        try
        {
            var envelope = new SmtpEnvelope(Sender, [id + "@c1.deliver.test", id + "@c2.deliver.test", id + "@c3.deliver.test"]);
            await using var mailer = Mailer(dkim: false);
            var source = new ForwardOnlyStream(RawMessageBytes(id), stallAfter: 1_500_000, onStall: cancel.Cancel);
            var e = await Assert.ThrowsAsync<DeliveryCanceledException>(() => mailer.SendAsync(envelope, SmtpContent.FromStream(source), cancel.Token));
            Assert.All(e.Report.Recipients, r => Assert.Equal(DeliveryStatus.Deferred, r.Status));
            Assert.All(e.Report.Recipients, r => Assert.Contains("canceled while the message content was read", r.Detail, StringComparison.Ordinal));
        }
        finally
        {
            ContentSpool.FileCreated.Value = null;
        }

        var handle = Assert.Single(handles);
        Assert.True(handle.IsClosed, "the spool file is still open after the canceled send");
        Assert.Empty(_servers.Stored(id));
    }

    [Fact]
    public async Task Dkim_spool_of_a_content_of_unknown_length_is_owner_only_and_closed_after_the_send()
    {
        // Stops: the DKIM spool (pass 1 of a content that can only be written once) in a 0644 file.
        var id = "dkimspool-" + Guid.NewGuid().ToString("N")[..8];
        var files = new ConcurrentQueue<(SafeFileHandle Handle, string Path, UnixFileMode Mode, bool Visible)>();
        ContentSpool.FileCreated.Value = (handle, path) => files.Enqueue((handle, path, ModeOf(handle), File.Exists(path)));
        var raw = RawMessageBytes(id);
        try
        {
            await using var mailer = Mailer(dkim: true);
            var report = await mailer.SendAsync(new SmtpEnvelope(Sender, id + "@c3.deliver.test"), new UnknownLengthContent(raw));
            Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        }
        finally
        {
            ContentSpool.FileCreated.Value = null;
        }

        var file = Assert.Single(files);
        Assert.Contains("directmail-dkim-", file.Path, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, file.Mode);
        Assert.False(file.Visible);
        Assert.True(file.Handle.IsClosed);
        using var signer = new DkimSigner(DkimOptions(), new FakeTimeProvider(SigningTime));
        var expected = await DkimTestSupport.WireAsync(signer.Sign(SmtpContent.FromBytes(raw)), EightBit);
        Assert.Equal(expected, Assert.Single(_servers.Stored(id)).Content);
    }

    [Fact]
    public void Nul_in_bytes_is_refused_when_the_content_is_made()
    {
        // Stops: "\r\n\0.\r\n" reaching the wire unchanged (a server may end a string at the NUL, or strip it).
        var message = Encoding.ASCII.GetBytes("From: a@client.deliver.test\r\nSubject: nul\r\n\r\nbody\r\n\0.\r\nrest\r\n");
        var bytes = Assert.Throws<SmtpContentException>(() => SmtpContent.FromBytes(message));
        Assert.Equal(5, bytes.Line);
        Assert.Equal(Array.IndexOf(message, (byte)0), bytes.Offset);
        Assert.Contains("NUL", bytes.Message, StringComparison.Ordinal);
        Assert.Equal(5, Assert.Throws<SmtpContentException>(() => SmtpContent.FromBytes(message)).Line);
        Assert.Equal(5, Assert.Throws<SmtpContentException>(() => SmtpContent.FromStream(new MemoryStream(message))).Line);
    }

    public static TheoryData<string, int> NulStreams() => new()
    {
        { "stream-seekable", 1 }, { "stream-seekable", 3 },
        { "stream-forward-only", 1 }, { "stream-forward-only", 3 },
    };

    [Theory]
    [MemberData(nameof(NulStreams))]
    public async Task Nul_in_a_stream_is_refused_before_any_connection(string kind, int domains)
    {
        var id = "nul-" + Guid.NewGuid().ToString("N")[..8];
        var message = RawMessageBytes(id);
        message[Size / 2] = 0; // deep in the message, well after the first chunks
        var recipients = new[] { id + "@c3.deliver.test", id + "@c1.deliver.test", id + "@c2.deliver.test" }[..domains];
        var accepted = _servers.Scripted.Accepted;

        await using (var mailer = Mailer(dkim: false))
        {
            // A seekable stream is scanned when the content is made; a forward-only one when the mailer reads it.
            var e = kind == "stream-seekable"
                ? Assert.Throws<SmtpContentException>(() => SmtpContent.FromStream(new MemoryStream(message)))
                : await Assert.ThrowsAsync<SmtpContentException>(() => mailer.SendAsync(new SmtpEnvelope(Sender, recipients), SmtpContent.FromStream(new ForwardOnlyStream(message))));
            Assert.Equal(Size / 2, e.Offset);
            Assert.Contains("NUL", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(accepted, _servers.Scripted.Accepted);
        Assert.Empty(_servers.Stored(id));
    }

    [Fact]
    public async Task Nul_reaching_a_session_ends_the_transaction_before_the_final_dot()
    {
        // The last line of defence, for content written to a session directly: the server never sees the end of data.
        bool? sawTerminator = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.test\r\n250-8BITMIME\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL");
            await c.ExpectAsync("RCPT");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 ok\r\n250 ok\r\n354 go\r\n");
            try
            {
                await c.ReadDataAsync();
                sawTerminator = true;
            }
            catch (EndOfStreamException)
            {
                sawTerminator = false;
            }
        });
        await using var session = new SmtpSession(DirectMail.Tests.Smtp.SmtpSessionConnectTests.Options());
        Assert.True((await session.ConnectAsync(server.EndPoint, "mx.test")).IsSuccess);
        var content = SmtpContent.FromStream(new ForwardOnlyStream(Encoding.ASCII.GetBytes("Subject: nul\r\n\r\nbody\r\n\0.\r\nrest\r\n")), SmtpBodyType.EightBit);

        var result = await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), content);
        await server.WaitForScriptsAsync();

        Assert.Equal(SmtpFailureKind.InvalidContent, result.Failure!.Kind);
        Assert.Contains("NUL", result.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("Line 4", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(554, result.Recipients[0].Reply!.Code);
        Assert.False(sawTerminator);
    }

    private static DirectMailer Mailer(bool dkim) => new(
        Options(o =>
        {
            o.SendTimeout = TimeSpan.FromSeconds(60);
            o.Timeouts.DataBlock = TimeSpan.FromSeconds(10);
            o.Timeouts.DataTermination = TimeSpan.FromSeconds(10);
            if (dkim)
            {
                o.Dkim.Add(DkimOptions());
            }
        }),
        timeProvider: new FakeTimeProvider(SigningTime));

    private static DkimSignerOptions DkimOptions() => new() { Domain = "client.deliver.test", Selector = "shared", PrivateKey = DkimKey.Value };

    /// <summary>A 2.5 MB message of numbered lines (a repeated or lost block shows), some starting with a dot.</summary>
    private static byte[] RawMessageBytes(string id)
    {
        var text = new StringBuilder(Size + 200);
        text.Append("From: Sender <").Append(Sender).Append(">\r\nTo: undisclosed-recipients:;\r\nSubject: ").Append(id)
            .Append("\r\nMessage-ID: <").Append(id).Append("@client.deliver.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        for (var line = 0; text.Length < Size; line++)
        {
            text.Append(line % 997 == 0 ? "." : string.Empty).Append("line ").Append(line.ToString("D7", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" of the shared content, the quick brown fox jumps over the lazy dog\r\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static byte[] Binary(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The content of a kind, a way to get the message expected after the send, and the attachment it holds (if any).</summary>
    private static (SmtpContent Content, Func<Task<byte[]?>> Expected, byte[]? Attachment) Make(string kind, string id)
    {
        switch (kind)
        {
            case "bytes":
            case "stream-seekable":
            case "stream-forward-only":
            case "raw-stream-seekable":
            case "raw-stream-forward-only":
            case "raw-file":
            {
                var raw = RawMessageBytes(id);
                SmtpContent content = kind switch
                {
                    "bytes" => SmtpContent.FromBytes(raw),
                    "stream-seekable" => SmtpContent.FromStream(new SlowStream(raw)),
                    "stream-forward-only" => SmtpContent.FromStream(new ForwardOnlyStream(raw)),
                    "raw-stream-seekable" => SmtpContent.FromStream(new SlowStream(raw)),
                    "raw-stream-forward-only" => SmtpContent.FromStream(new ForwardOnlyStream(raw)),
                    _ => SmtpContent.FromBytes(raw), // replaced by the file
                };
                return (content, () => Task.FromResult<byte[]?>(DkimTestSupport.ToWire(raw)), null);
            }

            case "email-streams":
            case "email-forward-only-attachment":
            {
                var attachment = Binary(1_300_000, 1);
                var inline = Binary(600_000, 2);
                var forwardOnly = kind == "email-forward-only-attachment";
                var message = new EmailMessage
                {
                    From = new EmailAddress(Sender, "Sender"),
                    Subject = id,
                    MessageId = id + "@client.deliver.test",
                    Date = SigningTime,
                    TextBody = "See the attachment.\r\n",
                    HtmlBody = "<p>See <img src=\"cid:logo@client.deliver.test\"></p>",
                };
                message.To.Add("list@deliver.test");
                message.Attachments.Add(Attachment.FromStream(forwardOnly ? new ForwardOnlyStream(attachment) : new SlowStream(attachment), "data.bin"));
                message.InlineResources.Add(InlineResource.FromStream(new SlowStream(inline), "logo@client.deliver.test", "image/png"));
                var content = message.ToSmtpContent();

                // The copies must equal each other; with seekable streams, also what the content writes afterwards
                // for one server alone (it rewinds them), which is what a send to one domain delivers.
                return (content, forwardOnly ? () => Task.FromResult<byte[]?>(null) : async () => await DkimTestSupport.WireAsync(content, EightBit), attachment);
            }

            case "mimekit-stream-attachment":
            {
                var attachment = Binary(1_800_000, 3);
                var message = new MimeMessage();
                message.From.Add(new MailboxAddress("Sender", Sender));
                message.To.Add(new MailboxAddress(null, "list@deliver.test"));
                message.Subject = id;
                message.MessageId = id + "@client.deliver.test";
                message.Date = SigningTime;
                var body = new Multipart("mixed")
                {
                    new TextPart("plain") { Text = "See the attachment.\r\n" },
                    new MimePart("application", "octet-stream")
                    {
                        Content = new MimeContent(new SlowStream(attachment)),
                        ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                        FileName = "data.bin",
                    },
                };
                body.Boundary = "=-shared-content-boundary";
                message.Body = body;
                var content = message.ToSmtpContent();
                return (content, async () => await DkimTestSupport.WireAsync(content, EightBit), attachment);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static UnixFileMode ModeOf(SafeFileHandle handle) => OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(handle);

    private static int FirstDifference(byte[] a, byte[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }

        return n;
    }

    /// <summary>The three servers: Postfix's smtp-sink (c1), aiosmtpd (c2), and the scripted server (c3).</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private readonly SmtpDialogue _dialogue = new();
        private readonly string _temp = Directory.CreateTempSubdirectory("directmail-shared-").FullName;
        private SmtpSinkServer? _sink;
        private GreylistServer? _aiosmtpd;

        public ScriptedSmtpServer Scripted { get; private set; } = null!;

        public SmtpDialogue Dialogue => _dialogue;

        public string Temp(string name) => Path.Combine(_temp, name + ".eml");

        public Task InitializeAsync()
        {
            _sink = new SmtpSinkServer(TestAddresses.Delivery.Concurrency[0]);
            _aiosmtpd = new GreylistServer(TestAddresses.Delivery.Concurrency[1], TimeSpan.Zero);
            Scripted = ScriptedSmtpServer.Start(_dialogue.RunAsync, TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.Concurrency[2]));
            return Task.CompletedTask;
        }

        /// <summary>Every message a server stored whose content names <paramref name="id"/>.</summary>
        public List<(string Server, byte[] Content)> Stored(string id)
        {
            var marker = Encoding.ASCII.GetBytes(id);
            var list = new List<(string, byte[])>();
            list.AddRange(_sink!.Messages().Where(m => Contains(m.Content, marker)).Select(m => ("smtp-sink", m.Content)));
            list.AddRange(_aiosmtpd!.Messages().Where(m => Contains(m.Content, marker)).Select(m => ("aiosmtpd", m.Content)));
            list.AddRange(_dialogue.Messages.Where(m => Contains(m, marker)).Select(m => ("scripted", m)));
            return list;
        }

        public async Task DisposeAsync()
        {
            _sink?.Dispose();
            _aiosmtpd?.Dispose();
            await Scripted.DisposeAsync();
            Directory.Delete(_temp, recursive: true);
        }

        private static bool Contains(byte[] content, byte[] marker) => content.AsSpan(0, Math.Min(content.Length, 4096)).IndexOf(marker) >= 0;
    }

    /// <summary>
    /// A seekable stream read as a file or a network share is, in pieces that take time: the deliveries' writes of one
    /// such stream overlap, as they do in production (a MemoryStream's reads complete at once and may not).
    /// </summary>
    private sealed class SlowStream(byte[] data) : MemoryStream(data, writable: false)
    {
        private int _reads;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (++_reads % 8 == 0)
            {
                await Task.Delay(1, cancellationToken);
            }
            else
            {
                await Task.Yield();
            }

            return Read(buffer.Span[..Math.Min(buffer.Length, 10_000)]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>A content of another library: its length unknown, written in small pieces.</summary>
    private sealed class UnknownLengthContent(byte[] data) : SmtpContent
    {
        public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => SmtpBodyType.SevenBit;

        public override async ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < data.Length; offset += 7000)
            {
                await destination.WriteAsync(data.AsMemory(offset, Math.Min(7000, data.Length - offset)), cancellationToken);
            }
        }
    }
}
