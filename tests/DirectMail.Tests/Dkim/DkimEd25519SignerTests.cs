using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using DirectMail.Dns;
using DirectMail.Mime;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static DirectMail.Tests.Dkim.DkimTestSupport;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// ed25519-sha256 signatures (RFC 8463) beside rsa-sha256 ones, checked by dkimpy (with python3-nacl), libopendkim
/// (opendkim-testmsg, 2.11 verifies ed25519-sha256) and MimeKit against the k=ed25519 records of the test DNS; dual
/// signing through DirectMailer over SMTP.
/// </summary>
[Collection(DkimCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DkimEd25519SignerTests(DkimDnsFixture dns)
{
    [Theory]
    [InlineData("e1", true)]
    [InlineData("e1", false)]
    [InlineData("eopenssl", true)]
    public async Task An_Ed25519_signature_alone_verifies_with_every_verifier(string selector, bool eightBit)
    {
        using var signer = dns.Signer(selector);
        var message = Message("Café ☕ with Ed25519", "Un café, s'il vous plaît.\nTab\there  and   runs   \n\n\n", "<p>Très bien.</p>");

        var wire = await WireAsync(signer.Sign(message.ToSmtpContent()), eightBit ? EightBit : SevenBit);

        var signature = Assert.Single(Signatures(wire));
        Assert.StartsWith("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=dkim.test;", signature, StringComparison.Ordinal);
        Assert.Contains("s=" + selector + ";", signature, StringComparison.Ordinal);
        await AssertVerifiesAsync(wire, "ed25519-sha256 d=dkim.test s=" + selector);
    }

    [Fact]
    public async Task The_RFC_8463_message_signed_at_its_time_has_its_body_hash_and_verifies_against_its_published_key()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1528637909));
        using var signer = dns.Signer("brisbane", time: time);

        var wire = await WireAsync(signer.Sign(SmtpContent.FromBytes(DkimEd25519KeyTests.RfcMessage)), EightBit);

        var signature = Assert.Single(Signatures(wire));
        Assert.Contains("d=football.example.com; s=brisbane; t=1528637909;", signature, StringComparison.Ordinal);
        Assert.Contains("bh=" + DkimEd25519KeyTests.RfcBodyHash + ";", signature, StringComparison.Ordinal);
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, python.Output);
        var mimeKit = await DkimVerifiers.MimeKitAsync(wire);
        Assert.True(mimeKit.Passed, mimeKit.Output);

        // And the appendix's own signed message, both of its signatures' keys aside: its Ed25519 signature verifies here.
        var original = Encoding.ASCII.GetBytes(DkimEd25519KeyTests.RfcSignature + "\r\n" + Encoding.ASCII.GetString(DkimEd25519KeyTests.RfcMessage));
        python = await DkimVerifiers.DkimpyAsync(original);
        Assert.True(python.Passed, python.Output);
    }

    [Fact]
    public async Task A_domain_with_an_RSA_and_an_Ed25519_key_gets_both_signatures_over_SMTP_from_one_pass_sharing_the_body_hash()
    {
        await using var server = await InProcessSmtpServer.StartAsync("127.0.53.130");
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<IMxResolver>(new OneHostResolver(server.EndPoint.Address));
        services.AddDirectMail(o =>
            {
                o.HeloName = "client.dkim.test";
                o.Port = server.EndPoint.Port;
                o.TlsMode = SmtpTlsMode.None;
                o.AllowPrivateTargets = true;
                o.MaxRetryAttempts = 0;
            })
            .AddDkimKey("dkim.test", "s2048", dns.Keys["s2048"].File)
            .AddDkimEd25519("dkim.test", "e1", dns.Keys["e1"].File);
        await using var provider = services.BuildServiceProvider();
        var mailer = provider.GetRequiredService<IDirectMailer>();

        var message = Message("Dual-signed", string.Concat(Enumerable.Repeat("A line of the report, with  two spaces.\n", 200)));
        var report = await mailer.SendAsync(new SmtpEnvelope("bounces@dkim.test", "rcpt@example.test"), message.ToSmtpContent());

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        var wire = Assert.Single(server.Messages.ToArray()).Content;
        var signatures = Signatures(wire);
        Assert.Equal(2, signatures.Length);
        Assert.Contains("a=rsa-sha256;", signatures[0], StringComparison.Ordinal);
        Assert.Contains("a=ed25519-sha256;", signatures[1], StringComparison.Ordinal);
        Assert.Equal(BodyHash(signatures[0]), BodyHash(signatures[1]));

        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, python.Output);
        Assert.Contains("pass a=rsa-sha256 d=dkim.test s=s2048", python.Output, StringComparison.Ordinal);
        Assert.Contains("pass a=ed25519-sha256 d=dkim.test s=e1", python.Output, StringComparison.Ordinal);
        var mimeKit = await DkimVerifiers.MimeKitAsync(wire);
        Assert.True(mimeKit.Passed, mimeKit.Output);
        Assert.Equal(2, mimeKit.Output.Split('\n').Count(l => l.StartsWith("pass ", StringComparison.Ordinal)));
        var openDkim = await DkimVerifiers.OpenDkimAsync(wire, dns);
        Assert.True(openDkim.Passed, "opendkim-testmsg: " + openDkim.Output);
    }

    [Fact]
    public async Task Both_signatures_come_from_the_two_writes_that_one_RSA_signature_takes()
    {
        var options = new DirectMailOptions();
        options.Dkim.Add(dns.Options("s2048"));
        options.Dkim.Add(dns.Options("e1"));
        using var keyring = DkimKeyring.Create(options.Dkim, NullLogger.Instance, TimeProvider.System)!;
        var content = new CountingContent(Message("Counted", "Hello.\n").ToSmtpContent());

        var wire = await WireAsync(keyring.Wrap(content, "bounces@dkim.test"), EightBit);

        Assert.Equal(2, Signatures(wire).Length);
        Assert.Equal(2, content.Writes); // pass 1 (one body hash, both header hashes) and pass 2 (the wire)
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, python.Output);
    }

    [Fact]
    public async Task A_changed_body_or_signed_header_fails_both_signatures_with_the_verifiers_reason()
    {
        var options = new DirectMailOptions();
        options.Dkim.Add(dns.Options("e1"));
        options.Dkim.Add(dns.Options("s2048"));
        using var keyring = DkimKeyring.Create(options.Dkim, NullLogger.Instance, TimeProvider.System)!;
        var wire = await WireAsync(keyring.Wrap(Message("Quarterly numbers", "Revenue was 100 units.\n").ToSmtpContent(), null), EightBit);
        Assert.True((await DkimVerifiers.DkimpyAsync(wire)).Passed);

        var body = Tamper(wire, "100 units", "900 units");
        var python = await DkimVerifiers.DkimpyAsync(body);
        Assert.False(python.Passed, python.Output);
        Assert.Contains("fail a=ed25519-sha256 d=dkim.test s=e1: body hash mismatch", python.Output, StringComparison.Ordinal);
        Assert.Contains("fail a=rsa-sha256 d=dkim.test s=s2048: body hash mismatch", python.Output, StringComparison.Ordinal);
        var mimeKit = await DkimVerifiers.MimeKitAsync(body);
        Assert.False(mimeKit.Passed, mimeKit.Output);
        Assert.StartsWith("fail v=1; a=ed25519-sha256;", mimeKit.Output, StringComparison.Ordinal);
        var openDkim = await DkimVerifiers.OpenDkimAsync(body, dns);
        Assert.False(openDkim.Passed, openDkim.Output);

        var header = Tamper(wire, "Quarterly", "Quarterlx");
        python = await DkimVerifiers.DkimpyAsync(header);
        Assert.False(python.Passed, python.Output);
        Assert.Contains("fail a=ed25519-sha256 d=dkim.test s=e1: signature does not verify", python.Output, StringComparison.Ordinal);
        Assert.Contains("fail a=rsa-sha256 d=dkim.test s=s2048: signature does not verify", python.Output, StringComparison.Ordinal);
        mimeKit = await DkimVerifiers.MimeKitAsync(header);
        Assert.False(mimeKit.Passed, mimeKit.Output);
        openDkim = await DkimVerifiers.OpenDkimAsync(header, dns);
        Assert.False(openDkim.Passed, openDkim.Output);
        Assert.Contains("bad signature", openDkim.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_Ed25519_signature_whose_published_key_is_another_fails()
    {
        using var signer = dns.Signer("ewrong");
        var wire = await WireAsync(signer.Sign(Message("Wrong key", "Hello.\n").ToSmtpContent()), EightBit);

        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.False(python.Passed, python.Output);
        Assert.Contains("fail a=ed25519-sha256 d=dkim.test s=ewrong: signature does not verify", python.Output, StringComparison.Ordinal);
        var openDkim = await DkimVerifiers.OpenDkimAsync(wire, dns);
        Assert.False(openDkim.Passed, openDkim.Output);
        Assert.Contains("bad signature", openDkim.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OpenSSL_keys_give_the_record_of_OpenSSL_public_key()
    {
        var file = dns.Keys["eopenssl"].File;
        var derFile = file + ".pub.der";
        var openssl = await ProcessRunner.RunAsync("openssl", ["pkey", "-in", file, "-pubout", "-outform", "DER", "-out", derFile]);
        Assert.True(openssl.ExitCode == 0, openssl.ToString());
        var der = await File.ReadAllBytesAsync(derFile);

        Assert.Equal(44, der.Length); // SubjectPublicKeyInfo: 12 octets of algorithm and bit string header, 32 of key
        Assert.Equal("v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(der[12..]), DkimEd25519.DnsRecordForKey(dns.Keys["eopenssl"].Pem));
    }

    private static string BodyHash(string signature)
    {
        var start = signature.IndexOf(" bh=", StringComparison.Ordinal) + 4;
        return signature[start..signature.IndexOf(';', start)];
    }

    private async Task AssertVerifiesAsync(byte[] wire, string what)
    {
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, "dkimpy: " + python.Output);
        Assert.Contains("pass a=" + what, python.Output, StringComparison.Ordinal);
        var mimeKit = await DkimVerifiers.MimeKitAsync(wire);
        Assert.True(mimeKit.Passed, "MimeKit: " + mimeKit.Output);
        var openDkim = await DkimVerifiers.OpenDkimAsync(wire, dns);
        Assert.True(openDkim.Passed, "opendkim-testmsg: " + openDkim.Output);
    }

    private sealed class OneHostResolver(IPAddress address) : IMxResolver
    {
        public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(MxResolution.FromTargets(domain, [new MxTarget("mx." + domain, 10, [new MxAddress(address)])]));
    }

    /// <summary>Counts how often the message is written.</summary>
    private sealed class CountingContent(SmtpContent inner) : SmtpContent
    {
        public int Writes { get; private set; }

        public override long? GetLength(SmtpCapabilities capabilities) => inner.GetLength(capabilities);

        public override SmtpBodyType GetBodyType(SmtpCapabilities capabilities) => inner.GetBodyType(capabilities);

        public override ValueTask WriteToAsync(Stream destination, SmtpCapabilities capabilities, CancellationToken cancellationToken)
        {
            Writes++;
            return inner.WriteToAsync(destination, capabilities, cancellationToken);
        }
    }
}
