using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using DirectMail.Dkim;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// The DKIM tests' keys and their DNS: keys made with <see cref="DkimKeyGenerator"/> when the fixture starts, their
/// records written with <see cref="DkimKeyGenerator.ZoneFileRecord"/> into the zone <c>dkim.test</c>, served by the
/// shared <see cref="NsdServer"/> (Debian package <c>nsd</c>) on 127.0.53.129 port 10053. The verifiers ask it for the public keys. Configuration,
/// zone and private keys live in a temporary directory removed on dispose; nothing leaves the loopback interface.
/// </summary>
public sealed class DkimDnsFixture : IDisposable
{
    public const string Zone = "dkim.test";

    public const string OtherDomain = "other.dkim.test";

    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.129");

    public const int Port = 10053;

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

        var zone = new StringBuilder();
        zone.Append($"""
            $ORIGIN {Zone}.
            $TTL 300
            @ SOA ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 60
            @ NS ns.{Zone}.
            ns A {Address}

            """);
        foreach (var line in _records)
        {
            zone.AppendLine(line);
        }

        ZoneFile = Path.Combine(Directory, "dkim.test.zone");
        File.WriteAllText(ZoneFile, zone.ToString());
        _server = new NsdServer(new IPEndPoint(Address, Port), [new NsdZone(Zone, zone.ToString())]);
    }

    private readonly List<string> _records = new();

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
