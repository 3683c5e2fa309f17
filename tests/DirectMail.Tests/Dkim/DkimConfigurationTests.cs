using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Dns;
using DirectMail.Mime;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static DirectMail.Tests.Dkim.DkimTestSupport;

namespace DirectMail.Tests.Dkim;

/// <summary>Keys, options, configuration and DI, and signing inside DirectMailer.</summary>
[Collection(DkimCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DkimConfigurationTests(DkimDnsFixture dns)
{
    [Fact]
    public void Generated_keys_give_a_PKCS8_PEM_and_the_TXT_record_of_their_public_key()
    {
        var pair = DkimKeyGenerator.Generate(1024);

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pair.PrivateKeyPem, StringComparison.Ordinal);
        Assert.StartsWith("v=DKIM1; k=rsa; p=MI", pair.DnsRecord, StringComparison.Ordinal);
        Assert.Equal(pair.DnsRecord, DkimKeyGenerator.DnsRecordForKey(pair.PrivateKeyPem));
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(pair.DnsRecord["v=DKIM1; k=rsa; p=".Length..]), out _);
        Assert.Equal(1024, rsa.KeySize);
        Assert.Equal("mail._domainkey.xn--bcher-kva.example", DkimKeyGenerator.DnsRecordName("Mail", "bücher.example."));
        Assert.Throws<ArgumentOutOfRangeException>(() => DkimKeyGenerator.Generate(512));
    }

    [Fact]
    public void Zone_file_records_split_the_text_into_strings_of_at_most_255()
    {
        var record = DkimKeyGenerator.Generate(4096).DnsRecord;
        var line = DkimKeyGenerator.ZoneFileRecord("s", "example.com", record);

        Assert.StartsWith("s._domainkey.example.com. 3600 IN TXT ( \"v=DKIM1;", line, StringComparison.Ordinal);
        var strings = line.Split('"').Where((_, i) => i % 2 == 1).ToArray();
        Assert.True(strings.Length > 2);
        Assert.All(strings, s => Assert.True(s.Length <= 255));
        Assert.Equal(record, string.Concat(strings));
    }

    [Fact]
    public void Wrong_keys_and_options_are_refused_with_a_message_that_names_them()
    {
        using var small = RSA.Create(512);
        using var ec = ECDsa.Create();
        var cases = new (Action<DkimSignerOptions> Change, string Expected)[]
        {
            (o => o.Selector = string.Empty, "Selector"),
            (o => o.Selector = "bad selector", "Selector"),
            (o => o.PrivateKey = "not a key", "not PEM"),
            (o => o.PrivateKey = small.ExportRSAPrivateKeyPem(), "512 bits"),
            (o => o.PrivateKey = dns.Keys["s1024"].Pem.Length > 0 ? DkimPublicPem() : string.Empty, "not an RSA private key"),
            (o => o.PrivateKey = ec.ExportPkcs8PrivateKeyPem(), "holds an EC private key, not an RSA key"),
            (o => o.PrivateKeyFile = "/nonexistent/key.pem", "exactly one"),
            (o => { o.PrivateKey = null; o.PrivateKeyFile = "/nonexistent/key.pem"; }, "cannot be read"),
            (o => o.SignatureLifetime = TimeSpan.Zero, "SignatureLifetime"),
            (o => o.Headers.Add("Bad: name"), "not a header field name"),
        };

        foreach (var (change, expected) in cases)
        {
            var options = dns.Options("s1024");
            change(options);
            var e = Assert.ThrowsAny<ArgumentException>(options.Validate); // a DkimKeyException for the key's own problems
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Keys_bind_from_configuration_as_PEM_text_or_file_and_from_code_through_DI()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DirectMail:HeloName"] = "mail.dkim.test",
            ["DirectMail:Dkim:0:Domain"] = "dkim.test",
            ["DirectMail:Dkim:0:Selector"] = "s2048",
            ["DirectMail:Dkim:0:PrivateKeyFile"] = dns.Keys["s2048"].File,
            ["DirectMail:Dkim:0:SignatureLifetime"] = "3.00:00:00",
            ["DirectMail:Dkim:0:HeaderCanonicalization"] = "Simple",
            ["DirectMail:Dkim:1:Domain"] = "other.dkim.test",
            ["DirectMail:Dkim:1:Selector"] = "o2048",
            ["DirectMail:Dkim:1:PrivateKey"] = dns.Keys["o2048"].Pem,
            ["DirectMail:Dkim:1:Headers:0"] = "From",
            ["DirectMail:Dkim:1:Headers:1"] = "Subject",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDirectMail().AddDkimKey("dkim.test", "s1024", dns.Keys["s1024"].File);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<DirectMailOptions>>().Value;

        Assert.Equal(3, options.Dkim.Count);
        Assert.Equal(TimeSpan.FromDays(3), options.Dkim[0].SignatureLifetime);
        Assert.Equal(DkimCanonicalization.Simple, options.Dkim[0].HeaderCanonicalization);
        Assert.Equal(["From", "Subject"], options.Dkim[1].Headers);
        Assert.Equal("s1024", options.Dkim[2].Selector);
        Assert.NotNull(provider.GetRequiredService<IDirectMailer>());
    }

    [Fact]
    public void A_bad_key_in_the_options_fails_at_startup()
    {
        var options = new DirectMailOptions { HeloName = "mail.dkim.test" };
        options.Dkim.Add(new DkimSignerOptions { Domain = "dkim.test", Selector = "x", PrivateKey = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" });

        var e = Assert.IsType<DkimKeyException>(Assert.ThrowsAny<ArgumentException>(options.Validate));
        Assert.Contains("dkim.test", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DirectMailer_signs_with_the_keys_of_the_From_domain_and_the_stored_message_verifies()
    {
        await using var server = await InProcessSmtpServer.StartAsync("127.0.53.130");
        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var options = MailerOptions(server.EndPoint.Port);
        options.Dkim.Add(dns.Options("s2048"));
        options.Dkim.Add(dns.Options("s1024")); // a second selector of the same domain: both sign
        options.Dkim.Add(dns.Options("o2048"));
        await using var mailer = new DirectMailer(options, new OneHostResolver(server.EndPoint.Address), loggerFactory);

        // From dkim.test, envelope other.dkim.test: the From domain's keys sign (DMARC aligns with From).
        var message = Message("Signed on the way out", "Hello from DirectMail.\n");
        message.To.Clear();
        message.To.Add("rcpt@example.test");
        var report = await mailer.SendAsync(new SmtpEnvelope("bounces@other.dkim.test", "rcpt@example.test"), message.ToSmtpContent());
        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));

        // From a domain without a key: sent unsigned, with a warning.
        var unsigned = Message("Not signed", "Hello.\n");
        unsigned.From = new EmailAddress("someone@nokey.test");
        report = await mailer.SendAsync(new SmtpEnvelope("someone@nokey.test", "rcpt@example.test"), unsigned.ToSmtpContent());
        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));

        var stored = server.Messages.ToArray();
        Assert.Equal(2, stored.Length);
        var signedWire = stored[0].Content;
        var signatures = Signatures(signedWire);
        Assert.Equal(2, signatures.Length);
        Assert.Contains(signatures, s => s.Contains("s=s2048;", StringComparison.Ordinal) && s.Contains("d=dkim.test;", StringComparison.Ordinal));
        Assert.Contains(signatures, s => s.Contains("s=s1024;", StringComparison.Ordinal));
        var python = await DkimVerifiers.DkimpyAsync(signedWire);
        Assert.True(python.Passed, python.Output);
        var mimeKit = await DkimVerifiers.MimeKitAsync(signedWire);
        Assert.True(mimeKit.Passed, mimeKit.Output);

        Assert.Empty(Signatures(stored[1].Content));
        Assert.Contains(logs.Logger.Entries, e => e.Id.Id == 5000 && e.Message.Contains("nokey.test", StringComparison.Ordinal));
        Assert.Contains(logs.Logger.Entries, e => e.Id.Id == 5001);
    }

    [Fact]
    public async Task The_envelope_sender_domain_signs_when_the_From_domain_has_no_key()
    {
        var options = MailerOptions(25);
        options.Dkim.Add(dns.Options("o2048"));
        using var keyring = DkimKeyring.Create(options.Dkim, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System)!;
        var message = Message("Envelope domain", "Hello.\n");
        message.From = new EmailAddress("author@elsewhere.test");

        var wire = await WireAsync(keyring.Wrap(message.ToSmtpContent(), "bounces@Other.DKIM.test"), EightBit);

        Assert.Contains("d=other.dkim.test;", Assert.Single(Signatures(wire)), StringComparison.Ordinal);
        var python = await DkimVerifiers.DkimpyAsync(wire);
        Assert.True(python.Passed, python.Output);
    }

    private static string DkimPublicPem()
    {
        using var rsa = RSA.Create(1024);
        return rsa.ExportSubjectPublicKeyInfoPem();
    }

    private static DirectMailOptions MailerOptions(int port) => new()
    {
        HeloName = "client.dkim.test",
        Port = port,
        TlsMode = SmtpTlsMode.None,
        AllowPrivateTargets = true,
        MaxRetryAttempts = 0,
        Timeouts = { Connect = TimeSpan.FromSeconds(5) },
    };

    private sealed class OneHostResolver(IPAddress address) : IMxResolver
    {
        public ValueTask<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(MxResolution.FromTargets(domain, [new MxTarget("mx." + domain, 10, [new MxAddress(address)])]));
    }
}
