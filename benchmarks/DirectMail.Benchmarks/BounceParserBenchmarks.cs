using System;
using System.IO;
using System.Text;
using BenchmarkDotNet.Attributes;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks;

/// <summary>
/// Parsing bounces that come back: a typical RFC 3464 notice (two recipients, folded Diagnostic-Code, the original's
/// header; as DirectMail's own <see cref="DeliveryStatusNotice"/> writes it) and a typical Exim text bounce. The
/// target is at least 20,000 notices a second (50 µs each).
/// </summary>
[MemoryDiagnoser]
public class BounceParserBenchmarks
{
    private const string EximBounce =
        "Return-path: <>\r\n" +
        "From: Mail Delivery System <Mailer-Daemon@mx.hoster.example>\r\n" +
        "To: bounces+q12-ann=example.net@bounce.client.test\r\n" +
        "Subject: Mail delivery failed: returning message to sender\r\n" +
        "Message-Id: <E1vXy2K-0003aB-Qd@mx.hoster.example>\r\n" +
        "X-Failed-Recipients: ann@example.net\r\n" +
        "Auto-Submitted: auto-replied\r\n" +
        "Date: Tue, 01 Dec 2026 11:20:45 +0000\r\n" +
        "\r\n" +
        "This message was created automatically by mail delivery software.\r\n" +
        "\r\n" +
        "A message that you sent could not be delivered to one or more of its\r\n" +
        "recipients. This is a permanent error. The following address(es) failed:\r\n" +
        "\r\n" +
        "  ann@example.net\r\n" +
        "    host mx.example.net [198.51.100.30]\r\n" +
        "    SMTP error from remote mail server after RCPT TO:<ann@example.net>:\r\n" +
        "    550 5.1.1 <ann@example.net>: Recipient address rejected:\r\n" +
        "    User unknown in local recipient table\r\n" +
        "\r\n" +
        "------ This is a copy of the message, including all the headers. ------\r\n" +
        "\r\n" +
        "Return-path: <bounces+q12-ann=example.net@bounce.client.test>\r\n" +
        "From: Shop <shop@client.test>\r\n" +
        "To: ann@example.net\r\n" +
        "Subject: Your order\r\n" +
        "Message-ID: <order-991@client.test>\r\n" +
        "\r\n" +
        "Thank you for your order.\r\n";

    private byte[] _dsn = [];
    private byte[] _text = [];

    [GlobalSetup]
    public void Setup()
    {
        var arrival = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        var notice = new DeliveryStatusNotice("mx.client.test", "bounces+q1-gone=mx.test@bounce.client.test",
        [
            new DsnRecipientReport("gone@mx.test", DsnAction.Failed, new EnhancedStatusCode(5, 1, 1))
            {
                OriginalRecipient = "list+gone@example.org",
                RemoteMta = "mx.mx.test",
                Reply = new SmtpReply(550, ["5.1.1 <gone@mx.test>: Recipient address rejected: User unknown in virtual mailbox table"]),
                LastAttemptDate = arrival.AddMinutes(6),
            },
            new DsnRecipientReport("slow@mx.test", DsnAction.Delayed, new EnhancedStatusCode(4, 2, 0))
            {
                RemoteMta = "mx.mx.test",
                Reply = new SmtpReply(451, ["4.2.0 Greylisted, see", "http://postgrey.example/help"]),
                LastAttemptDate = arrival.AddHours(4),
                WillRetryUntil = arrival.AddDays(5),
            },
        ])
        {
            EnvelopeId = "env-42",
            ArrivalDate = arrival,
        };
        var original = Encoding.ASCII.GetBytes(
            "Received: from app.client.test by mx.client.test; Tue, 01 Dec 2026 08:00:00 +0000\r\n" +
            "From: Sender <sender@client.test>\r\nTo: <gone@mx.test>, <slow@mx.test>\r\nSubject: Quarterly figures\r\n" +
            "Message-ID: <original-1@client.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nBody.\r\n");
        using var buffer = new MemoryStream();
        notice.WriteToAsync(new MemoryStream(original), buffer).GetAwaiter().GetResult();
        _dsn = buffer.ToArray();
        _text = Encoding.ASCII.GetBytes(EximBounce);
        if (BounceParser.Parse(_dsn).Recipients.Count != 2 || BounceParser.Parse(_text).Recipients.Count != 1)
        {
            throw new InvalidOperationException("The samples do not parse as expected.");
        }
    }

    /// <summary>An RFC 3464 notice (about 2.5 KB).</summary>
    [Benchmark(Baseline = true)]
    public int Rfc3464Notice() => BounceParser.Parse(_dsn).Recipients.Count;

    /// <summary>An Exim text bounce (about 1.3 KB).</summary>
    [Benchmark]
    public int EximTextBounce() => BounceParser.Parse(_text).Recipients.Count;
}
