using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using DirectMail.Dkim;
using DirectMail.Dkim.Ed25519;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// The DKIM tests' keys and their DNS: keys made with <see cref="DkimKeyGenerator"/> when the fixture starts, their
/// records written with <see cref="DkimKeyGenerator.ZoneFileRecord"/> into the zone <c>dkim.test</c>, served by the
/// shared <see cref="NsdServer"/> (Debian package <c>nsd</c>) on 127.0.53.129 port 10053. Ed25519 keys (RFC 8463: made by
/// <see cref="DkimEd25519.GenerateKey"/> and by <c>openssl genpkey -algorithm ed25519</c>) are published as
/// <c>k=ed25519</c> records beside the RSA ones; the RFC 8463 appendix A key is published in the zone <see cref="RfcZone"/>. The verifiers ask it for the public keys. Configuration,
/// zone and private keys live in a temporary directory removed on dispose; nothing leaves the loopback interface.
/// </summary>
public sealed class DkimDnsFixture : IDisposable
{
    public const string Zone = "dkim.test";

    public const string OtherDomain = "other.dkim.test";

    /// <summary>The zone of RFC 8463 appendix A, with its key <c>brisbane</c>.</summary>
    public const string RfcZone = "football.example.com";

    /// <summary>The RFC 8463 appendix A.2 private key: the PKCS#8 wrapping of its 32-octet seed.</summary>
    public static readonly string RfcPrivateKeyPem = "-----BEGIN PRIVATE KEY-----\n" + Convert.ToBase64String([.. Convert.FromHexString("302e020100300506032b657004220420"), .. Convert.FromBase64String("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")]) + "\n-----END PRIVATE KEY-----\n";

    /// <summary>The RFC 8463 appendix A.2 DNS record of that key.</summary>
    public const string RfcRecord = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    public static readonly IPAddress Address = TestAddresses.Dkim.NameServer.Address;

    public const int Port = TestAddresses.DnsPort;

    private readonly NsdServer _server;

    public DkimDnsFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("directmail-dkim-").FullName;

        // One key per size, a PKCS#1 key, a key of another domain, and a published key that is not the signer's.
        Add("s1024", Zone, DkimKeyGenerator.Generate(1024).PrivateKeyPem);
        Add("s2048", Zone, DkimKeyGenerator.Generate(2048).PrivateKeyPem);
        Add("s4096", Zone, DkimKeyGenerator.Generate(4096).PrivateKeyPem);
        using (var rsa = RSA.Create(2048))
        {
            Add("pkcs1", Zone, rsa.ExportRSAPrivateKeyPem());
        }

        Add("o2048", OtherDomain, DkimKeyGenerator.Generate(2048).PrivateKeyPem);
        var wrong = DkimKeyGenerator.Generate(2048);
        Add("wrong", Zone, wrong.PrivateKeyPem, publish: DkimKeyGenerator.Generate(2048).DnsRecord);

        // Ed25519: one made here, one made by OpenSSL, and one published under another key's record.
        AddEd25519("e1", Zone, DkimEd25519.GenerateKey().PrivateKeyPem);
        AddEd25519("eopenssl", Zone, OpenSslEd25519Key());
        AddEd25519("ewrong", Zone, DkimEd25519.GenerateKey().PrivateKeyPem, publish: DkimEd25519.GenerateKey().DnsRecord);
        Keys["brisbane"] = (RfcZone, RfcPrivateKeyPem, string.Empty);
        _ed25519.Add("brisbane");

        // The key records go in as DkimKeyGenerator.ZoneFileRecord wrote them (Raw): the library's own zone-file lines are under test.
        var zone = new ZoneBuilder(Zone).WithNameServer(Address);
        foreach (var line in _records)
        {
            zone.Raw(line);
        }

        ZoneFile = Path.Combine(Directory, "dkim.test.zone");
        File.WriteAllText(ZoneFile, zone.Text);
        var rfc = new ZoneBuilder(RfcZone)
            .WithSoa($"ns.{Zone}.", $"hostmaster.{Zone}.")
            .WithNameServer($"ns.{Zone}.")
            .Raw(DkimKeyGenerator.ZoneFileRecord("brisbane", RfcZone, RfcRecord, ttl: 300));
        _server = new NsdServer(TestAddresses.Dkim.NameServer, [zone.Build(), rfc.Build()]);
    }

    private readonly List<string> _records = new();

    private readonly HashSet<string> _ed25519 = new();

    public string Directory { get; }

    /// <summary>The zone file, also given to the opendkim verifier.</summary>
    public string ZoneFile { get; }

    /// <summary>The server, as <c>IP:port</c>.</summary>
    public static string Server => $"{Address}:{Port}";

    /// <summary>Private keys by selector: PEM text and the file it is saved in.</summary>
    public Dictionary<string, (string Domain, string Pem, string File)> Keys { get; } = new();

    /// <summary>Options for a key (selector), other settings changed by <paramref name="configure"/>.</summary>
    public DkimSignerOptions Options(string selector = "s2048", Action<DkimSignerOptions>? configure = null)
    {
        var key = Keys[selector];
        var options = new DkimSignerOptions { Domain = key.Domain, Selector = selector, PrivateKey = key.Pem };
        if (_ed25519.Contains(selector))
        {
            options.UseAlgorithm(DkimEd25519.Algorithm);
        }

        configure?.Invoke(options);
        return options;
    }

    public DkimSigner Signer(string selector = "s2048", Action<DkimSignerOptions>? configure = null, TimeProvider? time = null)
        => new(Options(selector, configure), time);

    public void Dispose()
    {
        _server.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless.
        }
    }

    private void AddEd25519(string selector, string domain, string pem, string? publish = null)
    {
        var file = Path.Combine(Directory, selector + ".pem");
        File.WriteAllText(file, pem);
        Keys[selector] = (domain, pem, file);
        _ed25519.Add(selector);
        _records.Add(DkimKeyGenerator.ZoneFileRecord(selector, domain, publish ?? DkimEd25519.DnsRecordForKey(pem), ttl: 300));
    }

    /// <summary>An Ed25519 private key made by <c>openssl genpkey -algorithm ed25519</c>, as a user makes one.</summary>
    private static string OpenSslEd25519Key()
    {
        var start = new System.Diagnostics.ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "genpkey", "-algorithm", "ed25519" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("openssl did not start.");
        var pem = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException("openssl genpkey -algorithm ed25519 failed: " + error);
        }

        return pem;
    }

    private void Add(string selector, string domain, string pem, string? publish = null)
    {
        var file = Path.Combine(Directory, selector + ".pem");
        File.WriteAllText(file, pem);
        Keys[selector] = (domain, pem, file);
        _records.Add(DkimKeyGenerator.ZoneFileRecord(selector, domain, publish ?? DkimKeyGenerator.DnsRecordForKey(pem), ttl: 300));
    }
}

[CollectionDefinition(Name)]
public sealed class DkimCollection : ICollectionFixture<DkimDnsFixture>
{
    public const string Name = "DKIM (NSD on 127.0.53.129:10053)";
}
