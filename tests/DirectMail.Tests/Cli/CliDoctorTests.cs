using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using DirectMail.Tests.Doctor;

namespace DirectMail.Tests.Cli;

/// <summary>
/// <c>directmail doctor</c> run as a process against the doctor tests' NSD (<see cref="DoctorDnsFixture"/>, 127.0.53.27:10053,
/// zone doctor.test): in their collection, so that one server serves both. The private key is the fixture's, saved to a file.
/// </summary>
[Collection(DoctorCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CliDoctorTests(DoctorDnsFixture dns)
{
    private static readonly string Dns = DoctorDnsFixture.EndPoint.ToString();

    [Fact]
    public async Task A_good_domain_passes_and_exits_0()
    {
        var result = await Doctor("good");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Split('\n');
        Assert.Equal("directmail doctor: good.doctor.test", lines[0]);
        foreach (var title in new[] { "MX (bounces)", "SPF", "DKIM key", "DMARC" })
        {
            Assert.Contains(lines, l => l.StartsWith("[pass] " + title + " ", StringComparison.Ordinal));
        }

        Assert.Equal(8, lines.Count(l => l.StartsWith("[pass] ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("[skip] Outbound port 25", StringComparison.Ordinal));
        Assert.Contains("matching the configured private key", result.StdOut);
        Assert.DoesNotContain("fix:", result.StdOut);
        Assert.Contains("Ready to send.", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith(' ')); // no fix, and the details only with --verbose
        Assert.Empty(result.StdErr);
    }

    [Theory]
    [InlineData("spf-without-ip", "[FAIL] SPF", "fix: Add ip4:192.0.2.10 to the SPF record of spf-without-ip.doctor.test")]
    [InlineData("no-dkim", "[FAIL] DKIM key", "fix: Publish a TXT record at sel._domainkey.no-dkim.doctor.test: \"v=DKIM1; k=rsa; p=")]
    [InlineData("other-key", "[FAIL] DKIM key", "fix: ")]
    public async Task A_broken_domain_fails_with_the_fix_and_exits_1(string label, string failed, string fix)
    {
        var result = await Doctor(label);

        Assert.True(result.ExitCode == 1, result.ToString());
        var lines = result.StdOut.Split('\n').Select(l => l.TrimStart()).ToList();
        var line = lines.FindIndex(l => l.StartsWith(failed, StringComparison.Ordinal));
        Assert.True(line >= 0, result.ToString());
        Assert.StartsWith(fix, lines[line + 1]);
        Assert.Contains(lines, l => l.StartsWith("Not ready: ", StringComparison.Ordinal));
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public async Task Json_has_the_verdict_and_every_check()
    {
        var good = await Doctor("good", "--json");
        var broken = await Doctor("spf-without-ip", "--json");

        Assert.True(good.ExitCode == 0, good.ToString());
        using (var json = JsonDocument.Parse(good.StdOut))
        {
            var root = json.RootElement;
            Assert.Equal("schemaVersion", root.EnumerateObject().First().Name);
            Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
            Assert.Equal("good.doctor.test", root.GetProperty("domain").GetString());
            Assert.True(root.GetProperty("isReady").GetBoolean());
            var checks = root.GetProperty("checks").EnumerateArray().ToList();
            Assert.Equal(["mx", "spf", "dkim", "dmarc", "alignment", "ptr", "fcrdns", "helo", "port25"], checks.Select(c => c.GetProperty("id").GetString()));
            Assert.Equal([.. Enumerable.Repeat("pass", 8), "skipped"], checks.Select(c => c.GetProperty("status").GetString()));
            Assert.Contains("include:_spf.good.doctor.test", string.Join('\n', checks[1].GetProperty("details").EnumerateArray().Select(d => d.GetString())));
        }

        Assert.True(broken.ExitCode == 1, broken.ToString());
        using (var json = JsonDocument.Parse(broken.StdOut))
        {
            var root = json.RootElement;
            Assert.False(root.GetProperty("isReady").GetBoolean());
            var spf = root.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "spf");
            Assert.Equal("fail", spf.GetProperty("status").GetString());
            Assert.Contains("ip4:192.0.2.10", spf.GetProperty("fix").GetString());
        }
    }

    [Fact]
    public async Task Mail_from_domain_and_dkim_domain_move_the_checks_to_those_domains()
    {
        // Stops: the flags parsed and then ignored (the checks still run on DOMAIN): no-dkim publishes no key and
        // no-mx no MX, so only the named domains can pass.
        var result = await Doctor("no-dkim", "--mail-from-domain", "bounces.good.doctor.test", "--dkim-domain", "good.doctor.test");
        var without = await Doctor("no-dkim");

        var lines = result.StdOut.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("[pass] MX (bounces) ", StringComparison.Ordinal) && l.Contains("bounces.good.doctor.test receives mail at 10 mail.good.doctor.test", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[pass] DKIM key ", StringComparison.Ordinal) && l.Contains("sel._domainkey.good.doctor.test publishes", StringComparison.Ordinal));
        Assert.True(without.ExitCode == 1, without.ToString());
        Assert.Contains(without.StdOut.Split('\n'), l => l.StartsWith("[FAIL] DKIM key ", StringComparison.Ordinal) && l.Contains("sel._domainkey.no-dkim.doctor.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Port25_connects_to_no_private_address_and_sends_nothing()
    {
        // The probe domain's MX is on a loopback address, where a listener on port 25 (the tests run as root) counts
        // connections: the CLI probes only public addresses, so it reports and connects to nothing.
        using var listener = new System.Net.Sockets.TcpListener(DoctorDnsFixture.Address, 25);
        listener.Start();

        var result = await Doctor("good", "--port25", "probe.doctor.test");

        var line = Assert.Single(result.StdOut.Split('\n'), l => l.Contains("Outbound port 25", StringComparison.Ordinal));
        Assert.StartsWith("[FAIL] Outbound port 25", line, StringComparison.Ordinal);
        Assert.Contains("The first MX host of probe.doctor.test, mx.probe.doctor.test, has no public address (", line, StringComparison.Ordinal);
        Assert.EndsWith("); nothing was connected to.", line.TrimEnd(), StringComparison.Ordinal);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task Report_prints_as_a_checklist_and_as_json()
    {
        var result = await Doctor("no-spf");
        var json = await Doctor("no-spf", "--json");

        var text = result.StdOut;
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("directmail doctor: no-spf.doctor.test\n", text, StringComparison.Ordinal);
        Assert.Contains("[FAIL] SPF", text, StringComparison.Ordinal);
        Assert.Contains("fix: Publish one TXT record at no-spf.doctor.test", text, StringComparison.Ordinal);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Contains("Not ready:", text, StringComparison.Ordinal);

        Assert.True(json.ExitCode == 1, json.ToString());
        using var document = JsonDocument.Parse(json.StdOut);
        var root = document.RootElement;
        Assert.Equal("no-spf.doctor.test", root.GetProperty("domain").GetString());
        Assert.False(root.GetProperty("isReady").GetBoolean());
        var spf = root.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "spf");
        Assert.Equal("fail", spf.GetProperty("status").GetString());
        Assert.Equal("SPF", spf.GetProperty("title").GetString());
        Assert.StartsWith("No SPF record", spf.GetProperty("found").GetString(), StringComparison.Ordinal);
        Assert.NotNull(spf.GetProperty("fix").GetString());
        Assert.Contains("no 'v=spf1' TXT record", json.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_adds_the_SPF_evaluation_trace()
    {
        var result = await Doctor("good", "--verbose");

        Assert.True(result.ExitCode == 0, result.ToString());
        var details = result.StdOut.Split('\n').Where(l => l.StartsWith(' ')).ToList();
        Assert.Contains(details, l => l.Contains("include:_spf.good.doctor.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_ed25519_selector_beside_the_rsa_one_is_checked_on_its_own()
    {
        var edKey = Path.Combine(CliAssert.TempDirectory(), "ed.pem");
        await File.WriteAllTextAsync(edKey, dns.Ed25519KeyPem);

        var result = await Doctor("good", "--ed25519-selector", DoctorDnsFixture.Ed25519Selector, "--ed25519-key", edKey);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdOut.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("[pass] DKIM key (sel) ", StringComparison.Ordinal) && l.EndsWith(" sel._domainkey.good.doctor.test publishes a 2048-bit RSA key matching the configured private key.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[pass] DKIM key (ed) ", StringComparison.Ordinal) && l.EndsWith(" ed._domainkey.good.doctor.test publishes an ed25519 key (RFC 8463) matching the configured private key.", StringComparison.Ordinal));
        Assert.Equal(9, lines.Count(l => l.StartsWith("[pass] ", StringComparison.Ordinal)));
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public async Task An_ed25519_key_given_alone_is_compared_and_warns_about_rsa()
    {
        var edKey = Path.Combine(CliAssert.TempDirectory(), "ed.pem");
        await File.WriteAllTextAsync(edKey, dns.Ed25519KeyPem);

        var matching = await CliRunner.RunAsync("doctor", "--domain", "good.doctor.test", "--selector", "ed", "--key", edKey, "--dns", Dns, "--json");
        var mismatching = await CliRunner.RunAsync("doctor", "--domain", "good.doctor.test", "--selector", "ed-other", "--key", edKey, "--dns", Dns, "--json");

        Assert.True(matching.ExitCode == 0, matching.ToString());
        using (var json = JsonDocument.Parse(matching.StdOut))
        {
            var dkim = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "dkim");
            Assert.Equal("warn", dkim.GetProperty("status").GetString());
            Assert.Contains("matching the configured private key", dkim.GetProperty("found").GetString(), StringComparison.Ordinal);
            Assert.Contains("verify only rsa-sha256", dkim.GetProperty("found").GetString(), StringComparison.Ordinal);
        }

        Assert.True(mismatching.ExitCode == 1, mismatching.ToString());
        using (var json = JsonDocument.Parse(mismatching.StdOut))
        {
            var dkim = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "dkim");
            Assert.Equal("fail", dkim.GetProperty("status").GetString());
            Assert.Contains("is not the public half of the configured private key", dkim.GetProperty("found").GetString(), StringComparison.Ordinal);
            Assert.Contains("k=ed25519; p=" + Convert.ToBase64String(dns.Ed25519PublicKey), dkim.GetProperty("fix").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("good.doctor.test", "--dkim-selector", "--dkim-key")]
    [InlineData("--domain", "--selector", "--key")] // the flags of earlier versions, hidden but still read
    public async Task A_missing_key_file_exits_65_with_one_line(string domain, string selector, string key)
    {
        var missing = Path.Combine(Path.GetTempPath(), "directmail-cli-missing-" + Guid.NewGuid().ToString("N") + ".pem");
        string[] domainArgs = domain == "--domain" ? ["--domain", "good.doctor.test"] : [domain];

        var result = await CliRunner.RunAsync(["doctor", .. domainArgs, selector, "sel", key, missing, "--dns", Dns]);

        Assert.True(result.ExitCode == 65, result.ToString());
        CliAssert.OneLineError(result, $"directmail: {key} '{missing}': cannot read the file: it does not exist");
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public async Task The_old_flags_are_hidden_from_help_and_the_new_ones_shown()
    {
        var result = await CliRunner.RunAsync("doctor", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        var help = result.StdOut.ReplaceLineEndings("\n");
        Assert.Contains("directmail doctor [<domain>] [options]", help, StringComparison.Ordinal);
        Assert.Contains("--dkim-selector <S>", help, StringComparison.Ordinal);
        Assert.Contains("--dkim-key <FILE>", help, StringComparison.Ordinal);
        Assert.DoesNotContain("--selector", help, StringComparison.Ordinal);
        Assert.DoesNotContain("--key ", help, StringComparison.Ordinal);
        Assert.DoesNotContain("--domain", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("65", "good.doctor.test", "--ip", "192.0.2.300")]
    [InlineData("65", "not a domain")]
    [InlineData("64", "good.doctor.test", "--dkim-key", "some.pem")]
    [InlineData("64", "--domain", "good.doctor.test", "--key", "some.pem")]
    [InlineData("64", "good.doctor.test", "--domain", "good.doctor.test")]
    [InlineData("64", "--domain", "good.doctor.test", "--selector", "sel", "--ed25519-key", "some.pem")]
    [InlineData("65", "--domain", "good.doctor.test", "--selector", "sel", "--ed25519-selector", "sel")]
    [InlineData("64", "--ip", "192.0.2.10")]
    public async Task Bad_input_exits_65_and_usage_errors_64(string code, params string[] args)
    {
        var result = await CliRunner.RunAsync(["doctor", .. args, "--dns", Dns]);

        Assert.True(result.ExitCode == int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), result.ToString());
        CliAssert.OneLineError(result, "directmail");
        Assert.Empty(result.StdOut);
    }

    private async Task<CliResult> Doctor(string label, params string[] more)
    {
        var key = Path.Combine(CliAssert.TempDirectory(), "sel.pem");
        await File.WriteAllTextAsync(key, dns.SigningKeyPem);
        return await CliRunner.RunAsync(
        [
            "doctor", label + "." + DoctorDnsFixture.Zone, "--ip", DoctorDnsFixture.SendingIp.ToString(), "--helo", DoctorDnsFixture.HeloName,
            "--dkim-selector", DoctorDnsFixture.Selector, "--dkim-key", key, "--dns", Dns, .. more,
        ]);
    }
}
