using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DirectMail.Dsn;
using DirectMail.Smtp;

namespace DirectMail.Benchmarks;

/// <summary>
/// Building one delivery status notice (RFC 3464) for a 10 KB message: one failed recipient with the server's reply,
/// the original's header returned (RET=HDRS, the default) or the whole original (RET=FULL), written to a stream. The
/// target (issue 16) is at most 20 µs and 4 KB allocated for a notice.
/// </summary>
[MemoryDiagnoser]
public class DeliveryStatusNoticeBenchmarks
{
    private byte[] _original = null!;
    private DeliveryStatusNotice _headers = null!;
    private DeliveryStatusNotice _full = null!;
    private MemoryStream _source = null!;

    [GlobalSetup]
    public void Setup()
    {
        _original = DkimBenchmarks.Build(10 * 1024, attachment: 0);
        _source = new MemoryStream(_original, writable: false);
        var recipient = new DsnRecipientReport("gone@example.net", DsnAction.Failed, new EnhancedStatusCode(5, 1, 1))
        {
            OriginalRecipient = "list+gone@example.org",
            RemoteMta = "mx.example.net",
            Reply = SmtpReply.FromStored("550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown in virtual mailbox table"),
            LastAttemptDate = new DateTimeOffset(2026, 12, 1, 8, 6, 0, TimeSpan.Zero),
        };
        _headers = new DeliveryStatusNotice("mx.client.test", "sender@client.test", [recipient])
        {
            EnvelopeId = "env-42",
            ArrivalDate = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero),
            Date = new DateTimeOffset(2026, 12, 1, 8, 6, 1, TimeSpan.Zero),
        };
        _full = new DeliveryStatusNotice("mx.client.test", "sender@client.test", [recipient])
        {
            EnvelopeId = "env-42",
            Return = DsnReturn.Full,
            Date = new DateTimeOffset(2026, 12, 1, 8, 6, 1, TimeSpan.Zero),
        };
    }

    [Benchmark(Baseline = true, Description = "notice, RET=HDRS (10 KB original)")]
    public Task<SmtpBodyType> Headers()
    {
        _source.Position = 0;
        return _headers.WriteToAsync(_source, Stream.Null);
    }

    [Benchmark(Description = "notice, RET=FULL (10 KB original)")]
    public Task<SmtpBodyType> Full()
    {
        _source.Position = 0;
        return _full.WriteToAsync(_source, Stream.Null);
    }
}
