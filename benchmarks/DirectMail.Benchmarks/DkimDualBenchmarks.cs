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
/// content written to Stream.Null. Target: dual at most 1.1x RSA alone.
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

    [GlobalSetup]
    public void Setup()
    {
        var rsa = new DkimSignerOptions { Domain = "bench.test", Selector = "rsa", PrivateKey = DkimKeyGenerator.Generate(2048).PrivateKeyPem };
        var ed25519 = DkimEd25519.Options("bench.test", "ed", DkimEd25519.GenerateKey().PrivateKeyPem);
        _rsa = DkimKeyring.Create([rsa], NullLogger.Instance, TimeProvider.System)!;
        _dual = DkimKeyring.Create([rsa, ed25519], NullLogger.Instance, TimeProvider.System)!;
        _ed25519 = DkimKeyring.Create([ed25519], NullLogger.Instance, TimeProvider.System)!;

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
    }

    [Benchmark(Baseline = true, Description = "RSA-2048 alone")]
    public void RsaAlone() => _rsaSigned.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "RSA-2048 + Ed25519 (dual)")]
    public void Dual() => _dualSigned.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();

    [Benchmark(Description = "Ed25519 alone")]
    public void Ed25519Alone() => _ed25519Signed.WriteToAsync(Stream.Null, Capabilities, default).GetAwaiter().GetResult();
}
