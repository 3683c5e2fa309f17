using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using DirectMail.Dkim;
using DnsClient;

namespace DirectMail.Tests.Dkim;

/// <summary>
/// The DKIM tests' keys and their DNS: keys made with <see cref="DkimKeyGenerator"/> when the fixture starts, their
/// records written with <see cref="DkimKeyGenerator.ZoneFileRecord"/> into the zone <c>dkim.test</c>, served by NSD
/// (Debian package <c>nsd</c>) on 127.0.53.129 port 10053. The verifiers ask it for the public keys. Configuration,
/// zone and private keys live in a temporary directory removed on dispose; nothing leaves the loopback interface.
/// </summary>
public sealed class DkimDnsFixture : IDisposable
{
    public const string Zone = "dkim.test";

    public const string OtherDomain = "other.dkim.test";

    public static readonly IPAddress Address = IPAddress.Parse("127.0.53.129");

    public const int Port = 10053;

    private readonly Process _process;
    private readonly StringBuilder _output = new();

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
        var config = Path.Combine(Directory, "nsd.conf");
        File.WriteAllText(config, $"""
            server:
              ip-address: {Address}@{Port}
              port: {Port}
              do-ip6: no
              username: ""
              chroot: ""
              zonesdir: "{Directory}"
              database: ""
              pidfile: "{Directory}/nsd.pid"
              logfile: "{Directory}/nsd.log"
              xfrdfile: "{Directory}/xfrd.state"
              zonelistfile: "{Directory}/zone.list"
              server-count: 1
              verbosity: 1
              hide-version: yes
            remote-control:
              control-enable: no
            zone:
              name: "{Zone}"
              zonefile: "dkim.test.zone"
            """);

        var nsd = File.Exists("/usr/sbin/nsd") ? "/usr/sbin/nsd"
            : throw new InvalidOperationException("The DKIM tests need NSD: apt-get install nsd (.ci/run does this).");
        _process = Process.Start(new ProcessStartInfo(nsd)
        {
            ArgumentList = { "-d", "-c", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("NSD did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilAnswering();
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
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A temporary directory left behind is harmless.
            }
        }
    }

    private void Add(string selector, string domain, string pem, string? publish = null)
    {
        var file = Path.Combine(Directory, selector + ".pem");
        File.WriteAllText(file, pem);
        Keys[selector] = (domain, pem, file);
        _records.Add(DkimKeyGenerator.ZoneFileRecord(selector, domain, publish ?? DkimKeyGenerator.DnsRecordForKey(pem), ttl: 300));
    }

    private void WaitUntilAnswering()
    {
        var client = new LookupClient(new LookupClientOptions(new IPEndPoint(Address, Port)) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 });
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"NSD exited with code {_process.ExitCode} before answering on {Server}.\n{_output}");
            }

            try
            {
                var response = client.Query(Zone, QueryType.SOA);
                if (!response.HasError && response.Answers.Count > 0)
                {
                    return;
                }
            }
            catch (DnsResponseException)
            {
                // Not listening yet.
            }

            Thread.Sleep(50);
        }

        throw new InvalidOperationException($"NSD did not answer on {Server} within 15 seconds.\n{_output}");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DkimCollection : ICollectionFixture<DkimDnsFixture>
{
    public const string Name = "DKIM (NSD on 127.0.53.129:10053)";
}
