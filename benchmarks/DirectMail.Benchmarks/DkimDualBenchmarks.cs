using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Benchmarks;

/// <summary>
/// Dual DKIM signing (rsa-sha256 2048-bit and ed25519-sha256, relaxed/relaxed, one pass sharing the body hash) of a
/// 10 KB message against RSA alone (the baseline) and Ed25519 alone, through the mailer's keyring: both passes, the
/// content written to Stream.Null. Target: dual at most 1.1x RSA alone. The two floors are one signature of each key
/// over a 32-octet hash: dual costs RSA alone plus about one Ed25519 signature.
/// </summary>
[MemoryDiagnoser]
public class DkimDualBenchmarks
{
    private static readonly SmtpCapabilities Capabilities = SmtpCapabilities.Parse(new SmtpReply(250, new[] { "mx.test", "8BITMIME", "PIPELINING" }));

    private DkimKeyring _rsa = null!;
    private DkimKeyring _dual = null!;
    private DkimKeyring _ed25519 = null!;
    private SmtpContent _rsaSigned = null!;
    private SmtpContent _dualSigned = null!;
    private SmtpContent _ed25519Signed = null!;
    private DkimSigningKey _rsaKey = null!;
    private DkimSigningKey _ed25519Key = null!;
    private readonly byte[] _hash = new byte[32];
    private readonly byte[] _signature = new byte[256];

    [GlobalSetup]
    public void Setup()
    {
        var rsa = new DkimSignerOptions { Domain = "bench.test", Selector = "rsa", PrivateKey = DkimKeyGenerator.Generate(2048).PrivateKeyPem };
        var ed25519 = DkimEd25519.Options("bench.test", "ed", DkimEd25519.GenerateKey().PrivateKeyPem);
        _rsa = DkimKeyring.Create([rsa], NullLogger.Instance, TimeProvider.System)!;
        _dual = DkimKeyring.Create([rsa, ed25519], NullLogger.Instance, TimeProvider.System)!;
        _ed25519 = DkimKeyring.Create([ed25519], NullLogger.Instance, TimeProvider.System)!;

        _rsaKey = DkimSigningAlgorithm.RsaSha256.ImportPrivateKey(rsa.PrivateKey!);
        _ed25519Key = DkimEd25519.Algorithm.ImportPrivateKey(ed25519.PrivateKey!);

        var message = SmtpContent.FromBytes(DkimBenchmarks.Build(10 * 1024, attachment: 0));
        _rsaSigned = _rsa.Wrap(message, "bounces@bench.test");
        _dualSigned = _dual.Wrap(message, "bounces@bench.test");
        _ed25519Signed = _ed25519.Wrap(message, "bounces@bench.test");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rsa.Dispose();
        _dual.Dispose();
        _ed25519.Dispose();
        _rsaKey.Dispose();
        _ed25519Key.Dispose();
    }

    [Benchmark(Baseline = true, Description = "RSA-2048 alone")]
    public void RsaAlone() => _rsaSigned.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "RSA-2048 + Ed25519 (dual)")]
    public void Dual() => _dualSigned.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "Ed25519 alone")]
    public void Ed25519Alone() => _ed25519Signed.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "floor: one RSA-2048 signature")]
    public int RsaSignature() => _rsaKey.SignHash(_hash, _signature);

    [Benchmark(Description = "floor: one Ed25519 signature")]
    public int Ed25519Signature() => _ed25519Key.SignHash(_hash, _signature);
}
