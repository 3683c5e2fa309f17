using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DirectMail.Dkim;
using DirectMail.Smtp;
using MimeKit;
using MimeKit.Cryptography;

namespace DirectMail.Benchmarks;

/// <summary>
/// DKIM signing (rsa-sha256, relaxed/relaxed, 2048-bit key) of a 10 KB and a 1 MB message: DirectMail's
/// <see cref="Dkim.DkimSigner"/> (both passes, the content written to Stream.Null) against MimeKit's DkimSigner on
/// the same message (the baseline of each category), and against the floor: one RSA-2048 signature plus SHA-256
/// over the message's octets.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class DkimBenchmarks
{
    private const string Small = "10 KB";
    private const string Large = "1 MB";

    private static readonly SmtpCapabilities Capabilities = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME", "PIPELINING" }));

    private static readonly HeaderId[] MimeKitHeaders =
    [
        HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.MimeVersion, HeaderId.ContentType,
    ];

    private byte[] _small = [];
    private byte[] _large = [];
    private SmtpContent _smallSigned = null!;
    private SmtpContent _largeSigned = null!;
    private MimeMessage _smallMime = null!;
    private MimeMessage _largeMime = null!;
    private Dkim.DkimSigner _signer = null!;
    private global::MimeKit.Cryptography.DkimSigner _mimeKitSigner = null!;
    private RSA _rsa = null!;

    [GlobalSetup]
    public void Setup()
    {
        var pem = DkimKeyGenerator.Generate(2048).PrivateKeyPem;
        _signer = Dkim.DkimSigner.FromPem("bench.test", "s2048", pem);
        _mimeKitSigner = new global::MimeKit.Cryptography.DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(pem)), "bench.test", "s2048", DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        _rsa = RSA.Create();
        _rsa.ImportFromPem(pem);

        _small = Build(10 * 1024, attachment: 0);
        _large = Build(64 * 1024, attachment: 700 * 1024);
        _smallSigned = _signer.Sign(SmtpContent.FromBytes(_small));
        _largeSigned = _signer.Sign(SmtpContent.FromBytes(_large));
        _smallMime = MimeMessage.Load(new MemoryStream(_small));
        _largeMime = MimeMessage.Load(new MemoryStream(_large));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _signer.Dispose();
        _rsa.Dispose();
    }

    [Benchmark(Baseline = true, Description = "MimeKit DkimSigner")]
    [BenchmarkCategory(Small)]
    public void MimeKitSmall() => SignMimeKit(_smallMime);

    [Benchmark(Description = "DirectMail DkimSigner")]
    [BenchmarkCategory(Small)]
    public void DirectMailSmall() => _smallSigned.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "floor: SHA-256 + RSA-2048")]
    [BenchmarkCategory(Small)]
    public int FloorSmall() => Floor(_small);

    [Benchmark(Baseline = true, Description = "MimeKit DkimSigner")]
    [BenchmarkCategory(Large)]
    public void MimeKitLarge() => SignMimeKit(_largeMime);

    [Benchmark(Description = "DirectMail DkimSigner")]
    [BenchmarkCategory(Large)]
    public void DirectMailLarge() => _largeSigned.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "floor: SHA-256 + RSA-2048")]
    [BenchmarkCategory(Large)]
    public int FloorLarge() => Floor(_large);

    private void SignMimeKit(MimeMessage message)
    {
        _mimeKitSigner.Sign(message, MimeKitHeaders);
        message.Headers.RemoveAt(0); // the DKIM-Signature it prepended, so that every run signs the same message
    }

    private int Floor(byte[] message)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(message, hash);
        Span<byte> signature = stackalloc byte[256];
        _rsa.TrySignHash(hash, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, out var written);
        return written;
    }

    /// <summary>A text message of about <paramref name="text"/> octets, with a base64 attachment of <paramref name="attachment"/> octets when not zero.</summary>
    internal static byte[] Build(int text, int attachment)
    {
        var b = new StringBuilder();
        b.Append("From: Bench Sender <sender@bench.test>\r\nTo: Recipient <rcpt@example.test>\r\nSubject: DKIM benchmark\r\n")
            .Append("Date: Sat, 01 Mar 2025 12:00:00 +0000\r\nMessage-ID: <bench@bench.test>\r\nMIME-Version: 1.0\r\n");
        if (attachment > 0)
        {
            b.Append("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n");
        }

        b.Append("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        var line = 0;
        var start = b.Length;
        while (b.Length - start < text)
        {
            b.Append("Line ").Append(line++).Append(": Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n");
        }

        if (attachment > 0)
        {
            var bytes = new byte[attachment];
            new Random(1).NextBytes(bytes);
            b.Append("--b1\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
                .Append(Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--b1--\r\n");
        }

        return Encoding.UTF8.GetBytes(b.ToString());
    }
}
