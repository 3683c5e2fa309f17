using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dkim;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Cli;

/// <summary>
/// A key made by <c>directmail dkim keygen</c> (the process), and its record as keygen printed it for a zone file, served
/// by NSD on 127.0.53.31:10053 in the zone <c>cli-dkim.test</c>: what a user does before sending signed mail.
/// </summary>
public sealed class CliDkimKey : IAsyncLifetime
{
    public const string Domain = "cli-dkim.test";

    public const string Selector = "cli";

    public static readonly IPEndPoint DnsEndPoint = TestAddresses.Cli.DkimNameServer;

    private NsdServer? _dns;

    public string Directory { get; } = CliAssert.TempDirectory();

    public string KeyFile => Path.Combine(Directory, "cli.pem");

    /// <summary>The Ed25519 key (selector <see cref="Ed25519Selector"/>), made by 'dkim keygen --algorithm ed25519' and published beside the RSA one.</summary>
    public string Ed25519KeyFile => Path.Combine(Directory, "cli-ed.pem");

    public const string Ed25519Selector = "cli-ed";

    /// <summary>What keygen printed.</summary>
    public CliResult Keygen { get; private set; } = new(-1, string.Empty, string.Empty);

    public async Task InitializeAsync()
    {
        Keygen = await CliRunner.RunAsync("dkim", "keygen", "--dkim-domain", Domain, "--dkim-selector", Selector, "--out", KeyFile);
        if (Keygen.ExitCode != 0)
        {
            throw new InvalidOperationException("dkim keygen failed:\n" + Keygen);
        }

        var lines = Keygen.StdOut.ReplaceLineEndings("\n").Split('\n');
        var zoneLine = lines[Array.IndexOf(lines, "As a zone-file line:") + 1]; // as printed, as a user pastes it
        var ed = await CliRunner.RunAsync("dkim", "keygen", "--domain", Domain, "--selector", Ed25519Selector, "--algorithm", "ed25519", "--out", Ed25519KeyFile);
        if (ed.ExitCode != 0)
        {
            throw new InvalidOperationException("dkim keygen --algorithm ed25519 failed:\n" + ed);
        }

        var edLines = ed.StdOut.ReplaceLineEndings("\n").Split('\n');
        var edZoneLine = edLines[Array.IndexOf(edLines, "As a zone-file line:") + 1];
        // The keygen lines go in as printed (Raw): they are what the test is about.
        var zone = new ZoneBuilder(Domain).WithNameServer(DnsEndPoint.Address).Raw(zoneLine).Raw(edZoneLine);
        _dns = new NsdServer(DnsEndPoint, [zone.Build()]);
    }

    public Task DisposeAsync()
    {
        _dns?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless.
        }

        return Task.CompletedTask;
    }

    /// <summary>dkimpy (python3-dkim) verifies every DKIM-Signature of <paramref name="message"/>, asking this fixture's NSD for the key.</summary>
    public static async Task<(bool Passed, string Output)> VerifyAsync(byte[] message)
    {
        var result = await ProcessRunner.RunAsync("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "Dkim", "dkim_verify.py"), DnsEndPoint.ToString()], message);
        return (result.ExitCode == 0, $"exit {result.ExitCode}: {result.StdOut}{result.StdErr}");
    }
}

/// <summary>
/// <c>directmail dkim keygen</c> and <c>directmail send --dkim-key</c> as processes: the key file and the record printed,
/// and mail signed through the CLI's scripted SMTP server (<see cref="CliServers"/>) verified by dkimpy against the
/// published record.
/// </summary>
[Collection(CliCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CliDkimTests(CliServers servers, CliDkimKey key) : IClassFixture<CliDkimKey>
{
    // ---- dkim keygen ----

    [Fact]
    public void Keygen_writes_the_private_key_and_prints_the_record_to_publish()
    {
        var output = key.Keygen.StdOut.ReplaceLineEndings("\n");
        using var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(key.KeyFile));
        Assert.Equal(2048, rsa.KeySize);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key.KeyFile));
        }

        var record = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        Assert.Contains("\n  name:  cli._domainkey.cli-dkim.test\n", output);
        Assert.Contains("\n  value: " + record + "\n", output);
        Assert.Contains("\nAs a zone-file line:\ncli._domainkey.cli-dkim.test. 3600 IN TXT ( \"v=DKIM1; k=rsa; p=", output); // not indented: pasted as it is
        Assert.Contains($"--dkim-key {key.KeyFile} --dkim-selector cli", output);
        Assert.Contains("\"DirectMail\": { \"Dkim\": [ { \"Domain\": \"cli-dkim.test\", \"Selector\": \"cli\"", output);
        Assert.Empty(key.Keygen.StdErr);
    }

    [Fact]
    public async Task Keygen_writes_SELECTOR_DOMAIN_pem_in_the_current_folder_with_the_size_asked()
    {
        var folder = CliAssert.TempDirectory();

        var result = await CliRunner.RunInAsync(folder, TimeSpan.FromSeconds(30), "dkim", "keygen", "--domain", "Example.COM", "--selector", "s1", "--bits", "1024");

        Assert.True(result.ExitCode == 0, result.ToString());
        var file = Path.Combine(folder, "s1.example.com.pem");
        using var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(file));
        Assert.Equal(1024, rsa.KeySize);
        Assert.Contains("  value: " + DkimKeyGenerator.DnsRecord(rsa.ExportSubjectPublicKeyInfo()), result.StdOut);
        Assert.Contains("  name:  s1._domainkey.example.com", result.StdOut);
    }

    [Fact]
    public async Task Keygen_exits_73_when_the_key_file_cannot_be_created()
    {
        // README: exit 73 (EX_CANTCREAT) for a file that cannot be created; here its folder does not exist. Nothing is
        // printed to stdout: no DNS record for a key that was not saved.
        var file = Path.Combine(CliAssert.TempDirectory(), "missing-folder", "key.pem");

        var result = await CliRunner.RunAsync("dkim", "keygen", "--dkim-domain", "example.com", "--dkim-selector", "s1", "--bits", "1024", "--out", file);

        Assert.True(result.ExitCode == 73, result.ToString());
        CliAssert.OneLineError(result, $"directmail: --out '{file}': cannot create the file");
        Assert.Empty(result.StdOut);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Keygen_refuses_to_overwrite_a_file_unless_forced()
    {
        var file = Path.Combine(CliAssert.TempDirectory(), "existing.pem");
        await File.WriteAllTextAsync(file, "an old key");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        string[] args = ["dkim", "keygen", "--domain", "example.com", "--selector", "s1", "--bits", "1024", "--out", file];
        var refused = await CliRunner.RunAsync(args);
        Assert.True(refused.ExitCode == 73, refused.ToString());
        CliAssert.OneLineError(refused, $"directmail: --out '{file}' exists: not overwritten");
        Assert.Empty(refused.StdOut);
        Assert.Equal("an old key", await File.ReadAllTextAsync(file));

        var forced = await CliRunner.RunAsync([.. args, "--force"]);
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", await File.ReadAllTextAsync(file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Theory]
    [InlineData("512")]
    [InlineData("8192")]
    [InlineData("2047")]
    [InlineData("many")]
    public async Task Keygen_with_bad_bits_exits_64(string bits)
    {
        var folder = CliAssert.TempDirectory();

        var result = await CliRunner.RunInAsync(folder, TimeSpan.FromSeconds(30), "dkim", "keygen", "--domain", "example.com", "--selector", "s1", "--bits", bits);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail dkim keygen: ");
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task Keygen_with_algorithm_ed25519_writes_a_PKCS8_Ed25519_key_and_prints_its_k_ed25519_record()
    {
        var folder = CliAssert.TempDirectory();

        var result = await CliRunner.RunInAsync(folder, TimeSpan.FromSeconds(30), "dkim", "keygen", "--domain", "example.com", "--selector", "ed1", "--algorithm", "ed25519");

        Assert.True(result.ExitCode == 0, result.ToString());
        var file = Path.Combine(folder, "ed1.example.com.pem");
        var pem = await File.ReadAllTextAsync(file);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pem, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        var record = DirectMail.Dkim.Ed25519.DkimEd25519.DnsRecordForKey(pem); // the key reads as Ed25519
        Assert.Matches("^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$", record);
        var output = result.StdOut.ReplaceLineEndings("\n");
        Assert.Contains("Wrote the private key (Ed25519, PKCS#8 PEM) to ed1.example.com.pem: keep it secret.", output, StringComparison.Ordinal);
        Assert.Contains("\n  name:  ed1._domainkey.example.com\n", output, StringComparison.Ordinal);
        Assert.Contains("\n  value: " + record + "\n", output, StringComparison.Ordinal);
        Assert.Contains("\nAs a zone-file line:\ned1._domainkey.example.com. 3600 IN TXT ( \"" + record + "\" )\n", output, StringComparison.Ordinal);
        Assert.Contains("Give the domain an RSA key too", output, StringComparison.Ordinal);
        Assert.Contains("\"Algorithm\": \"ed25519-sha256\"", output, StringComparison.Ordinal);
        Assert.Empty(result.StdErr);
    }

    [Theory]
    [InlineData("--algorithm", "ed25519", "--bits", "2048", "--bits is for RSA keys")]
    [InlineData("--algorithm", "dsa", "--force", "", "dsa")]
    public async Task Keygen_with_a_wrong_algorithm_or_bits_for_ed25519_exits_64(string option, string value, string other, string otherValue, string reason)
    {
        var folder = CliAssert.TempDirectory();
        string[] args = ["dkim", "keygen", "--domain", "example.com", "--selector", "s1", option, value, other];
        if (otherValue.Length > 0)
        {
            args = [.. args, otherValue];
        }

        var result = await CliRunner.RunInAsync(folder, TimeSpan.FromSeconds(30), args);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains(reason, result.StdErr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder));
    }

    // ---- send --dkim-key ----

    [Fact]
    public async Task Send_signs_for_the_From_domain_and_dkimpy_verifies_it()
    {
        servers.Reset();

        var result = await Send("sender@" + CliDkimKey.Domain, "--dkim-key", key.KeyFile, "--dkim-selector", CliDkimKey.Selector);

        Assert.True(result.ExitCode == 0, result.ToString());
        var stored = Assert.Single(servers.Dialogue.Messages);
        var tags = SignatureTags(stored);
        Assert.Contains("d=" + CliDkimKey.Domain, tags);
        Assert.Contains("s=" + CliDkimKey.Selector, tags);
        Assert.Contains("a=rsa-sha256", tags);
        var verified = await CliDkimKey.VerifyAsync(stored);
        Assert.True(verified.Passed, verified.Output + "\n" + Encoding.UTF8.GetString(stored));

        // One byte of the body changed: the signature no longer verifies.
        var tampered = (byte[])stored.Clone();
        var body = Encoding.ASCII.GetString(tampered).IndexOf("Signed by the CLI", StringComparison.Ordinal);
        tampered[body] = (byte)'s';
        Assert.False((await CliDkimKey.VerifyAsync(tampered)).Passed);
    }

    [Fact]
    public async Task Send_with_an_Ed25519_key_signs_ed25519_sha256_and_dkimpy_verifies_it()
    {
        servers.Reset();

        var result = await Send("sender@" + CliDkimKey.Domain, "--dkim-key", key.Ed25519KeyFile, "--dkim-selector", CliDkimKey.Ed25519Selector);

        Assert.True(result.ExitCode == 0, result.ToString());
        var stored = Assert.Single(servers.Dialogue.Messages);
        var tags = SignatureTags(stored);
        Assert.Contains("a=ed25519-sha256", tags);
        Assert.Contains("s=" + CliDkimKey.Ed25519Selector, tags);
        var verified = await CliDkimKey.VerifyAsync(stored);
        Assert.True(verified.Passed, verified.Output + "\n" + Encoding.UTF8.GetString(stored));
        Assert.Contains("pass a=ed25519-sha256", verified.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_with_dkim_domain_signs_for_that_domain()
    {
        servers.Reset();

        var result = await Send("sender@client.cli.test", "--dkim-key", key.KeyFile, "--dkim-selector", CliDkimKey.Selector, "--dkim-domain", CliDkimKey.Domain);

        Assert.True(result.ExitCode == 0, result.ToString());
        var stored = Assert.Single(servers.Dialogue.Messages);
        Assert.Contains("d=" + CliDkimKey.Domain, SignatureTags(stored));
        var verified = await CliDkimKey.VerifyAsync(stored);
        Assert.True(verified.Passed, verified.Output);
    }

    [Theory]
    [InlineData("--dkim-key", "key.pem")]
    [InlineData("--dkim-selector", "cli")]
    [InlineData("--dkim-domain", "cli-dkim.test")]
    public async Task A_dkim_option_without_its_partner_exits_64(string option, string value)
    {
        servers.Reset();

        var result = await Send("sender@" + CliDkimKey.Domain, option, value);

        Assert.True(result.ExitCode == 64, result.ToString());
        CliAssert.OneLineError(result, "directmail send: ");
        Assert.Contains("--dkim-", result.StdErr);
        Assert.Empty(servers.Dialogue.Messages);
    }

    [Fact]
    public async Task An_unreadable_or_invalid_key_file_exits_65_with_one_line()
    {
        servers.Reset();
        var folder = CliAssert.TempDirectory();
        var missing = Path.Combine(folder, "missing.pem");
        var notKey = Path.Combine(folder, "not-a-key.pem");
        await File.WriteAllTextAsync(notKey, "v=DKIM1; k=rsa; p=MIIB\n");

        var absent = await Send("sender@" + CliDkimKey.Domain, "--dkim-key", missing, "--dkim-selector", "cli");
        var invalid = await Send("sender@" + CliDkimKey.Domain, "--dkim-key", notKey, "--dkim-selector", "cli");

        Assert.True(absent.ExitCode == 65, absent.ToString());
        CliAssert.OneLineError(absent, $"directmail: --dkim-key '{missing}': cannot read the file: it does not exist");
        Assert.True(invalid.ExitCode == 65, invalid.ToString());
        CliAssert.OneLineError(invalid, $"directmail: --dkim-key '{notKey}': the private key is not PEM");
        Assert.Empty(servers.Dialogue.Messages);
    }

    private static Task<CliResult> Send(string from, params string[] args) => CliRunner.RunAsync(
    [
        "send", "--from", from, "--to", "Alice <alice@mail.cli.test>", "--subject", "DKIM from the CLI", "--text", "Signed by the CLI.",
        "--helo", "client.cli.test", "--dns", CliServers.Dns, "--port", "10025", "--allow-private-targets", .. args,
    ]);

    /// <summary>The tags of the message's DKIM-Signature field, unfolded and without spaces: "d=example.com", "s=sel"...</summary>
    private static string[] SignatureTags(byte[] message)
    {
        var text = Encoding.ASCII.GetString(message);
        var header = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)].Replace("\r\n ", " ", StringComparison.Ordinal).Replace("\r\n\t", " ", StringComparison.Ordinal);
        var field = header.Split("\r\n").Single(l => l.StartsWith("DKIM-Signature:", StringComparison.OrdinalIgnoreCase));
        return field["DKIM-Signature:".Length..].Split(';').Select(t => string.Concat(t.Where(c => !char.IsWhiteSpace(c)))).ToArray();
    }
}
