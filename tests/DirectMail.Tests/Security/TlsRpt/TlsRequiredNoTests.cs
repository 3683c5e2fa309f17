using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.IO;
using DirectMail.Mime;
using DirectMail.Queue;
using DirectMail.Queue.Sqlite;
using DirectMail.Security;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using DirectMail.Tests.Queue;
using DirectMail.Tests.Security.MtaSts;
using static DirectMail.Tests.Delivery.DeliveryTestKit;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// <c>TLS-Required: No</c> (RFC 8689 section 5) for every kind of content, on the wire: the MTA-STS world of the
/// REQUIRETLS tests (NSD's deliver.test zone, policies over HTTPS from Kestrel, the tests' CA), with two enforce domains
/// (tlsno-one, tlsno-two) whose only MX (127.0.44.1, 127.0.44.2) presents a certificate for another name, so the policy
/// refuses it. A message marked so is delivered there (TLS unauthenticated); an unmarked one is deferred, nothing sent.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TlsRequiredNoTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>, IDisposable
{
    private const string One = "tlsno-one.deliver.test";
    private const string Two = "tlsno-two.deliver.test";
    private const string EhloWithRequireTls = "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n250-REQUIRETLS\r\n250 ENHANCEDSTATUSCODES";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dm-tlsno-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static IPEndPoint Mx(IPAddress address) => new(address, TestAddresses.TlsRequiredNo.Port);

    private DirectMailer Mailer() => new(Options(o => o.TrustAnchorFile = fixture.Ca.PemFile));

    /// <summary>The domain's enforce policy names its MX, whose certificate is for another name: MTA-STS refuses it.</summary>
    private StartTlsSmtpServer WrongCertificateMx(string domain, IPAddress address)
    {
        fixture.Https.ServePolicy(domain, $"version: STSv1\r\nmode: enforce\r\nmx: mx.{domain}\r\nmax_age: 86400\r\n");
        return StartTlsSmtpServer.Start(Mx(address), fixture.Ca.Issue("attacker.deliver.test"));
    }

    internal static EmailMessage Email(bool ignorePolicy, params string[] to)
    {
        var message = new EmailMessage
        {
            From = new EmailAddress(Sender),
            Subject = ignorePolicy ? "tls report" : "plain",
            TextBody = "Body.",
            IgnoreRecipientTlsPolicy = ignorePolicy,
        };
        foreach (var address in to)
        {
            message.To.Add(new EmailAddress(address));
        }

        return message;
    }

    private static readonly byte[] Marked = Encoding.ASCII.GetBytes("From: <" + Sender + ">\r\nTLS-Required: No\r\nSubject: raw\r\n\r\nBody\r\n");

    [Fact]
    public async Task An_EmailMessage_that_ignores_the_recipient_policy_is_delivered_past_an_enforce_failure_and_one_that_does_not_is_deferred()
    {
        // Stops: IgnoreRecipientTlsPolicy writing the field but DirectMail still applying the policy (the TLS report or
        // the alert about the broken certificate never arrives), and the policy skipped for a message that did not ask.
        await using var mx = WrongCertificateMx(One, TestAddresses.TlsRequiredNo.One);
        await using var mailer = Mailer();

        var plain = await mailer.SendAsync(Email(false, "one@" + One));

        var refused = Assert.Single(plain.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, refused.Status);
        Assert.Equal(TlsFailureType.CertificateHostMismatch, refused.TlsFailure);
        Assert.Empty(mx.Dialogue.Messages);

        var marked = await mailer.SendAsync(Email(true, "one@" + One));

        var r = Assert.Single(marked.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.Unauthenticated, r.Tls!.Kind);
        var received = Encoding.ASCII.GetString(Assert.Single(mx.Dialogue.Messages));
        Assert.Equal(2, received.Split("\r\nTLS-Required: No\r\n").Length); // exactly once
        Assert.True(received.IndexOf("\r\nTLS-Required: No\r\n", StringComparison.Ordinal) < received.IndexOf("\r\n\r\n", StringComparison.Ordinal), "The field is in the header section.");
    }

    [Fact]
    public async Task Under_requiretls_an_EmailMessage_that_ignores_the_recipient_policy_is_not_delivered()
    {
        // Stops: IgnoreRecipientTlsPolicy overriding REQUIRETLS (RFC 8689 section 5: REQUIRETLS wins), which would send
        // a message its sender required to be protected to an unauthenticated host.
        await using var mx = WrongCertificateMx(One, TestAddresses.TlsRequiredNo.One);
        mx.Dialogue.EhloReply = EhloWithRequireTls;
        await using var mailer = Mailer();
        var message = Email(true, "one@" + One);
        var envelope = message.CreateEnvelope();

        var report = await mailer.SendAsync(new SmtpEnvelope(envelope.Sender, envelope.Recipients) { RequireTls = true }, message.ToSmtpContent());

        Assert.NotEqual(DeliveryStatus.Delivered, Assert.Single(report.Recipients).Status);
        Assert.Empty(mx.Dialogue.Messages);
        Assert.DoesNotContain(mx.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
    }

    public static TheoryData<string> ContentKinds() => new() { "email", "email-with-forward-only-attachment", "bytes", "file", "seekable-stream", "forward-only-stream", "mimekit" };

    private SmtpContent Content(string kind, string[] to)
    {
        switch (kind)
        {
            case "email":
                return Email(true, to).ToSmtpContent();
            case "email-with-forward-only-attachment":
                // Readied into a copy of the message over a spool: the copy must keep the flag.
                var message = Email(true, to);
                message.Attachments.Add(Attachment.FromStream(new ForwardOnlyStream(Encoding.ASCII.GetBytes("attached")), "a.txt", "text/plain"));
                return message.ToSmtpContent();
            case "bytes":
                return SmtpContent.FromBytes(Marked);
            case "file":
                Directory.CreateDirectory(_directory);
                var path = Path.Combine(_directory, "message.eml");
                File.WriteAllBytes(path, Marked);
                return SmtpContent.FromFile(path);
            case "seekable-stream":
                return SmtpContent.FromStream(new MemoryStream(Marked));
            case "mimekit":
                var mime = new global::MimeKit.MimeMessage();
                mime.From.Add(global::MimeKit.MailboxAddress.Parse(Sender));
                mime.Subject = "mimekit";
                mime.Headers.Add("TLS-Required", "No");
                mime.Body = new global::MimeKit.TextPart("plain") { Text = "Body" };
                return new DirectMail.MimeKit.MimeMessageContent(mime);
            default:
                // Not scanned before the send: known only once spooled.
                return SmtpContent.FromStream(new ForwardOnlyStream(Marked));
        }
    }

    [Theory]
    [MemberData(nameof(ContentKinds))]
    public async Task Every_content_kind_marked_TLS_Required_No_reaches_two_enforce_domains_whose_mx_fails_the_policy(string kind)
    {
        // Stops: the flag lost where the content is readied for several deliveries at once (a stream spooled, a message
        // copied over spooled attachments, content written once per server form), so one domain or both stay deferred.
        await using var one = WrongCertificateMx(One, TestAddresses.TlsRequiredNo.One);
        await using var two = WrongCertificateMx(Two, TestAddresses.TlsRequiredNo.Two);
        await using var mailer = Mailer();
        string[] to = ["one@" + One, "two@" + Two];

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, to), Content(kind, to));

        Assert.All(report.Recipients, r => Assert.Equal((DeliveryStatus.Delivered, TlsPostureKind.Unauthenticated), (r.Status, r.Tls!.Kind)));
        var first = Assert.Single(one.Dialogue.Messages);
        Assert.Equal(first, Assert.Single(two.Dialogue.Messages));
        Assert.Contains("\r\nTLS-Required: No\r\n", Encoding.ASCII.GetString(first), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forward_only_stream_marked_TLS_Required_No_to_one_domain_is_delivered()
    {
        // Stops: the flag read before the stream is spooled (a forward-only stream is not scanned until then).
        await using var mx = WrongCertificateMx(One, TestAddresses.TlsRequiredNo.One);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + One), SmtpContent.FromStream(new ForwardOnlyStream(Marked)));

        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(report.Recipients).Status);
        Assert.Equal(Marked, Assert.Single(mx.Dialogue.Messages));
    }

    [Fact]
    public async Task Through_the_SQLite_queue_a_marked_message_is_delivered_by_the_worker_and_an_unmarked_one_is_deferred()
    {
        // Stops: the queue dropping TLS-Required: No at enqueue or the worker not passing it on, so the retries apply the
        // policy the first send ignored and the message sits deferred until it expires; and the opposite downgrade.
        await using var mx = WrongCertificateMx(One, TestAddresses.TlsRequiredNo.One);
        await using var mailer = Mailer();
        await using var store = new SqliteMailQueueStore(_directory);
        await using var queue = new MailQueue(store, new MailQueueOptions { RetryJitter = 0 });
        var worker = new MailQueueWorker(queue, mailer);
        var plain = Email(false, "plain@" + One);
        var plainId = await queue.EnqueueAsync(plain.CreateEnvelope(), plain.ToSmtpContent());
        var marked = Email(true, "marked@" + One);
        var markedId = await queue.EnqueueAsync(marked.CreateEnvelope(), marked.ToSmtpContent());

        // A forward-only stream is not scanned when it is made: its stored header is.
        var streamId = await queue.EnqueueAsync(new SmtpEnvelope(Sender, "stream@" + One), SmtpContent.FromStream(new ForwardOnlyStream(Marked)));

        Assert.Equal((false, true, true), ((await queue.GetAsync(plainId))!.IgnoreRecipientTlsPolicy, (await queue.GetAsync(markedId))!.IgnoreRecipientTlsPolicy, (await queue.GetAsync(streamId))!.IgnoreRecipientTlsPolicy));

        await worker.RunOnceAsync(default);

        Assert.Equal(QueueRecipientState.Deferred, Assert.Single((await queue.GetAsync(plainId))!.Recipients).State);
        Assert.Equal(QueueRecipientState.Delivered, Assert.Single((await queue.GetAsync(markedId))!.Recipients).State);
        Assert.Equal(QueueRecipientState.Delivered, Assert.Single((await queue.GetAsync(streamId))!.Recipients).State);
        Assert.Equal(2, mx.Dialogue.Messages.Count);
        Assert.All(mx.Dialogue.Messages, m => Assert.Contains("\r\nTLS-Required: No\r\n", Encoding.ASCII.GetString(m), StringComparison.Ordinal));
        Assert.Equal(["RCPT TO:<marked@" + One + ">", "RCPT TO:<stream@" + One + ">"], mx.Dialogue.Commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_deferred_marked_message_handed_to_the_queue_keeps_the_flag()
    {
        // Stops: the hand-off storing the readied content (a spool) without the flag: the first send ignored the policy
        // and the retries would apply it. The domain's MX refuses for a while (451), so the marked message is deferred.
        await using var mx = WrongCertificateMx(One, TestAddresses.TlsRequiredNo.One);
        mx.Dialogue.Respond = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? "451 4.7.1 try again later" : null;
        await using var store = new SqliteMailQueueStore(_directory);
        await using var queue = new MailQueue(store, new MailQueueOptions { RetryJitter = 0 });
        await using var mailer = Mailer();
        mailer.OnDeferred = queue;

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + One), SmtpContent.FromStream(new ForwardOnlyStream(Marked)));

        var id = Assert.Single(report.Recipients).QueueId;
        Assert.NotNull(id);
        Assert.True((await queue.GetAsync(id!))!.IgnoreRecipientTlsPolicy);
    }
}

/// <summary>
/// <c>TLS-Required: No</c> in the MIME writer and in each content kind that readies or wraps another, without a network:
/// the exact header bytes, the reserved header's error, and the flag kept by spools, form spools and DKIM.
/// </summary>
public sealed class TlsRequiredNoContentTests
{
    private static EmailMessage Fixed(bool ignorePolicy)
    {
        var message = TlsRequiredNoTests.Email(ignorePolicy, "one@tlsno-one.deliver.test");
        message.Date = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        message.MessageId = "fixed.1@client.deliver.test";
        message.Priority = EmailPriority.High;
        message.Headers.Add("X-Campaign", "reports");
        return message;
    }

    private static byte[] Write(SmtpContent content)
    {
        using var output = new MemoryStream();
        content.WriteToAsync(output, SmtpCapabilities.Minimal, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return output.ToArray();
    }

    [Fact]
    public void IgnoreRecipientTlsPolicy_writes_exactly_TLS_Required_No_once_after_the_priority_fields_and_before_the_custom_ones()
    {
        // Stops: the field spelt otherwise (every RFC 8689 implementation matches "TLS-Required: No"), written twice,
        // written into the body, or missing from the length declared with SIZE.
        var plain = Fixed(false).ToSmtpContent();
        var marked = Fixed(true).ToSmtpContent();

        var plainBytes = Encoding.ASCII.GetString(Write(plain));
        var markedBytes = Write(marked);

        Assert.Equal(
            "Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n" +
            "From: sender@client.deliver.test\r\n" +
            "To: one@tlsno-one.deliver.test\r\n" +
            "Subject: tls report\r\n" +
            "Message-ID: <fixed.1@client.deliver.test>\r\n" +
            "X-Priority: 1 (Highest)\r\n" +
            "Importance: high\r\n" +
            "TLS-Required: No\r\n" +
            "X-Campaign: reports\r\n" +
            "MIME-Version: 1.0\r\n",
            Encoding.ASCII.GetString(markedBytes)[..Encoding.ASCII.GetString(markedBytes).IndexOf("Content-Type:", StringComparison.Ordinal)]);
        Assert.Equal(plainBytes.Replace("Subject: plain\r\n", "Subject: tls report\r\n", StringComparison.Ordinal).Replace("Importance: high\r\n", "Importance: high\r\nTLS-Required: No\r\n", StringComparison.Ordinal), Encoding.ASCII.GetString(markedBytes));
        Assert.DoesNotContain("TLS-Required", plainBytes, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(markedBytes.Length, marked.GetLength(SmtpCapabilities.Minimal));
        Assert.True(marked.TlsRequiredNo);
        Assert.False(plain.TlsRequiredNo);
    }

    [Theory]
    [InlineData("TLS-Required", "No")]
    [InlineData("tls-required", "Yes")]
    public void A_TLS_Required_custom_header_is_refused_naming_the_property_to_set(string name, string value)
    {
        // Stops: a second or contradicting TLS-Required field (which would count is each server's guess), or one that
        // DirectMail itself would not honour while the recipient's servers do.
        var message = new EmailMessage();

        var error = Assert.Throws<ArgumentException>(() => message.Headers.Add(name, value));

        Assert.Equal("name", error.ParamName);
        Assert.Contains("EmailMessage.IgnoreRecipientTlsPolicy", error.Message, StringComparison.Ordinal);
        Assert.Empty(message.Headers);
        Assert.Throws<ArgumentException>(() => new EmailHeader(name, value));
    }

    [Theory]
    [InlineData("No", true)]
    [InlineData(" no ", true)]
    [InlineData("Yes", false)]
    [InlineData(null, false)]
    public void A_MimeKit_message_is_marked_by_its_own_TLS_Required_field(string? value, bool marked)
    {
        // Stops: a MimeKit message's field honoured by the queue (which scans the stored header) but not by SendAsync,
        // or any other value read as No.
        var mime = new global::MimeKit.MimeMessage();
        mime.Subject = "x";
        if (value is not null)
        {
            mime.Headers.Add("TLS-Required", value);
        }

        Assert.Equal(marked, new DirectMail.MimeKit.MimeMessageContent(mime).TlsRequiredNo);
    }

    [Fact]
    public async Task A_forward_only_stream_is_known_to_be_marked_once_it_is_spooled()
    {
        // Stops: SpooledContent dropping what the scan of the spooled octets found.
        var raw = SmtpContent.FromStream(new ForwardOnlyStream(Encoding.ASCII.GetBytes("Subject: x\r\ntls-required:  no \r\n\r\nBody\r\n")));
        await using var spools = new ContentSpools();

        var shared = await raw.ShareAsync(spools, concurrent: false, CancellationToken.None);

        Assert.False(raw.TlsRequiredNo); // not scanned when made
        Assert.IsType<SpooledContent>(shared);
        Assert.True(shared.TlsRequiredNo);
    }

    [Fact]
    public async Task A_field_in_the_body_or_with_another_value_does_not_mark_a_spooled_stream()
    {
        // Stops: the policy skipped for a message whose body merely quotes the field (a forwarded TLS report).
        var raw = SmtpContent.FromStream(new ForwardOnlyStream(Encoding.ASCII.GetBytes("Subject: x\r\nTLS-Required: Yes\r\n\r\nTLS-Required: No\r\n")));
        await using var spools = new ContentSpools();

        Assert.False((await raw.ShareAsync(spools, concurrent: true, CancellationToken.None)).TlsRequiredNo);
    }

    [Fact]
    public async Task Content_written_once_per_server_form_and_DKIM_signed_content_keep_the_flag_of_what_they_wrap()
    {
        // Stops: a wrapper that reports the base class's false, so that a send to several domains or a signed send
        // applies the policy the message asked to skip.
        var marked = Fixed(true).ToSmtpContent();
        var plain = Fixed(false).ToSmtpContent();
        using var key = System.Security.Cryptography.RSA.Create(2048);
        using var signer = DirectMail.Dkim.DkimSigner.FromPem("client.deliver.test", "s1", key.ExportPkcs8PrivateKeyPem());
        await using var spools = new ContentSpools();

        Assert.True(new FormSpooledContent(marked, spools).TlsRequiredNo);
        Assert.False(new FormSpooledContent(plain, spools).TlsRequiredNo);
        Assert.True(signer.Sign(marked).TlsRequiredNo);
        Assert.False(signer.Sign(plain).TlsRequiredNo);
        Assert.True(signer.Sign(new FormSpooledContent(marked, spools)).TlsRequiredNo);
    }
}
