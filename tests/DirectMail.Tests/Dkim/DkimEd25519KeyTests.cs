using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;
using DirectMail.Delivery;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// ed25519-sha256 (RFC 8463) without servers: the RFC's appendix A example reproduced octet for octet, key reading and
/// its typed errors, and configuration.
/// </summary>
public sealed class DkimEd25519KeyTests
{
    /// <summary>RFC 8463 appendix A.3: the message that was signed (RFC 6376's example message).</summary>
    internal static readonly byte[] RfcMessage = Encoding.ASCII.GetBytes(
        "From: Joe SixPack <joe@football.example.com>\r\n" +
        "To: Suzie Q <suzie@shopping.example.net>\r\n" +
        "Subject: Is dinner ready?\r\n" +
        "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n" +
        "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n" +
        "\r\n" +
        "Hi.\r\n" +
        "\r\n" +
        "We lost the game.  Are you hungry yet?\r\n" +
        "\r\n" +
        "Joe.\r\n");

    /// <summary>RFC 8463 appendix A.3: its ed25519-sha256 DKIM-Signature field, as folded there.</summary>
    internal const string RfcSignature =
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n" +
        " d=football.example.com; i=@football.example.com;\r\n" +
        " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n" +
        " subject : date : message-id : from : subject : date;\r\n" +
        " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n" +
        " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n" +
        " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";

    internal const string RfcBodyHash = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=";

    internal const string RfcB = "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";

    [Fact]
    public void The_RFC_8463_appendix_A_example_gives_the_same_bh_and_b()
    {
        // The appendix's key, headers (h=from:to:subject:date:message-id, the over-signed ones absent) and canonicalisation.
        var options = DkimEd25519.Options(DkimDnsFixture.RfcZone, "brisbane", DkimDnsFixture.RfcPrivateKeyPem);
        options.Headers = ["From", "To", "Subject", "Date", "Message-ID"];
        using var signer = new DkimSigner(options);
        using var hasher = new DkimMessageHasher(signer.Single, null, null);
        hasher.Write(RfcMessage);
        hasher.Complete();

        Span<byte> bodyHash = stackalloc byte[32];
        hasher.GetBodyHash(DkimCanonicalization.Relaxed, bodyHash);
        Assert.Equal(RfcBodyHash, Convert.ToBase64String(bodyHash));

        // The header hash over the appendix's own field with b= emptied, signed by the Ed25519 key.
        var field = Encoding.ASCII.GetBytes(RfcSignature[..(RfcSignature.IndexOf(" b=", StringComparison.Ordinal) + 3)]);
        Span<byte> hash = stackalloc byte[32];
        signer.HashHeader(hasher, field, hash);
        using var key = DkimEd25519.Algorithm.ImportPrivateKey(DkimDnsFixture.RfcPrivateKeyPem);
        var signature = new byte[key.SignatureLength];
        Assert.Equal(64, key.SignHash(hash, signature));

        Assert.Equal(RfcB, Convert.ToBase64String(signature));
        Assert.Equal(DkimDnsFixture.RfcRecord, DkimEd25519.DnsRecordForKey(DkimDnsFixture.RfcPrivateKeyPem));
        Assert.Equal("ed25519-sha256", signer.Algorithm.Name);
        Assert.Equal(256, signer.KeySize);
    }

    [Fact]
    public void Generated_keys_are_PKCS8_PEM_with_a_k_ed25519_record_of_the_32_octet_public_key()
    {
        var pair = DkimEd25519.GenerateKey();

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", pair.PrivateKeyPem, StringComparison.Ordinal);
        Assert.Equal(32, pair.PublicKey.Length);
        Assert.Equal("v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(pair.PublicKey.Span), pair.DnsRecord);
        Assert.Equal(pair.DnsRecord, DkimEd25519.DnsRecordForKey(pair.PrivateKeyPem));
        Assert.Same(DkimEd25519.Algorithm, pair.Algorithm);
        Assert.NotEqual(pair.DnsRecord, DkimEd25519.GenerateKey().DnsRecord);
    }

    public static TheoryData<string, string, DkimKeyProblem, string> WrongKeys()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ed25519 = DkimEd25519.GenerateKey().PrivateKeyPem;
        var truncated = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        return new TheoryData<string, string, DkimKeyProblem, string>
        {
            { "ed25519-sha256", rsa.ExportPkcs8PrivateKeyPem(), DkimKeyProblem.WrongKind, "holds an RSA private key, not an Ed25519 key" },
            { "ed25519-sha256", rsa.ExportRSAPrivateKeyPem(), DkimKeyProblem.WrongKind, "holds an RSA private key, not an Ed25519 key" },
            { "ed25519-sha256", ec.ExportPkcs8PrivateKeyPem(), DkimKeyProblem.WrongKind, "holds an EC private key, not an Ed25519 key" },
            { "ed25519-sha256", truncated, DkimKeyProblem.Unreadable, "cannot be read as a PKCS#8 key" },
            { "ed25519-sha256", rsa.ExportSubjectPublicKeyInfoPem(), DkimKeyProblem.NotPem, "holds 'PUBLIC KEY', not an unencrypted PKCS#8 private key" },
            { "ed25519-sha256", "not a key", DkimKeyProblem.NotPem, "is not PEM" },
            { "rsa-sha256", ed25519, DkimKeyProblem.WrongKind, "holds an Ed25519 private key, not an RSA key. ed25519-sha256 signing is in the package DirectMail.Dkim.Ed25519" },
            { "rsa-sha256", ec.ExportPkcs8PrivateKeyPem(), DkimKeyProblem.WrongKind, "holds an EC private key, not an RSA key" },
        };
    }

    [Theory]
    [MemberData(nameof(WrongKeys))]
    public void A_key_of_the_wrong_kind_or_damaged_is_a_DkimKeyException_when_the_signer_is_made(string algorithm, string pem, DkimKeyProblem problem, string reason)
    {
        var options = new DkimSignerOptions { Domain = "dkim.test", Selector = "k", PrivateKey = pem };
        if (algorithm == "ed25519-sha256")
        {
            options.UseAlgorithm(DkimEd25519.Algorithm);
        }

        var e = Assert.Throws<DkimKeyException>(options.Validate);

        Assert.Equal(problem, e.Problem);
        Assert.StartsWith("DirectMail:Dkim entry for 'dkim.test': ", e.Reason, StringComparison.Ordinal);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        Assert.Equal(nameof(DkimSignerOptions.PrivateKey), e.ParamName);
    }

    [Fact]
    public void An_RSA_key_of_the_wrong_size_is_a_DkimKeyException_of_WrongSize()
    {
        using var rsa = RSA.Create(512);
        var options = new DkimSignerOptions { Domain = "dkim.test", Selector = "k", PrivateKey = rsa.ExportPkcs8PrivateKeyPem() };

        var e = Assert.Throws<DkimKeyException>(options.Validate);

        Assert.Equal(DkimKeyProblem.WrongSize, e.Problem);
        Assert.Contains("the RSA key has 512 bits", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Naming_ed25519_sha256_without_the_package_registered_says_what_to_add()
    {
        var options = new DkimSignerOptions { Domain = "dkim.test", Selector = "k", PrivateKey = DkimEd25519.GenerateKey().PrivateKeyPem, Algorithm = "ed25519-sha256" };

        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("needs the package DirectMail.Dkim.Ed25519: call AddDkimEd25519()", e.Message, StringComparison.Ordinal);

        options.Algorithm = "rsa-sha1";
        e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Algorithm 'rsa-sha1' is not a DKIM signing algorithm DirectMail knows", e.Message, StringComparison.Ordinal);
        Assert.Equal(nameof(DkimSignerOptions.Algorithm), e.ParamName);
    }

    [Fact]
    public void Configuration_names_the_algorithm_and_AddDkimEd25519_gives_it_the_implementation()
    {
        var rsa = DkimKeyGenerator.Generate(1024).PrivateKeyPem;
        var ed25519 = DkimEd25519.GenerateKey().PrivateKeyPem;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DirectMail:HeloName"] = "mail.dkim.test",
            ["DirectMail:Dkim:0:Domain"] = "dkim.test",
            ["DirectMail:Dkim:0:Selector"] = "rsa",
            ["DirectMail:Dkim:0:PrivateKey"] = rsa,
            ["DirectMail:Dkim:1:Domain"] = "dkim.test",
            ["DirectMail:Dkim:1:Selector"] = "ed",
            ["DirectMail:Dkim:1:Algorithm"] = "ed25519-sha256",
            ["DirectMail:Dkim:1:PrivateKey"] = ed25519,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDirectMail().AddDkimEd25519().AddDkimEd25519(o =>
        {
            o.Domain = "other.dkim.test";
            o.Selector = "code";
            o.PrivateKey = ed25519;
        });
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<DirectMailOptions>>().Value;

        Assert.Equal(["rsa-sha256", "ed25519-sha256", "ed25519-sha256"], options.Dkim.ConvertAll(k => k.Algorithm));
        foreach (var key in options.Dkim)
        {
            using var signer = new DkimSigner(key);
            Assert.Equal(key.Algorithm, signer.Algorithm.Name);
        }

        Assert.NotNull(provider.GetRequiredService<IDirectMailer>());
    }

    [Fact]
    public void An_RSA_key_given_to_AddDkimEd25519_fails_at_startup_naming_the_entry()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddDirectMail(o => o.HeloName = "mail.dkim.test").AddDkimEd25519(o =>
        {
            o.Domain = "dkim.test";
            o.Selector = "ed";
            o.PrivateKey = DkimKeyGenerator.Generate(1024).PrivateKeyPem;
        });
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DirectMailOptions>>().Value);

        Assert.Contains("DirectMail:Dkim entry for 'dkim.test': the PEM holds an RSA private key, not an Ed25519 key", e.Message, StringComparison.Ordinal);
    }
}
