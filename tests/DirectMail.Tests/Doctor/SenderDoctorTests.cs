using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Tasks;
using DirectMail.Dkim.Ed25519;
using DirectMail.Doctor;

namespace DirectMail.Tests.Doctor;

/// <summary>The doctor against real DNS: NSD serving a good domain and one domain per kind of broken record.</summary>
[Collection(DoctorCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SenderDoctorTests(DoctorDnsFixture dns)
{
    private static string Name(string label) => label + "." + DoctorDnsFixture.Zone;

    private Task<DoctorReport> CheckAsync(string label, Action<DoctorRequest>? configure = null)
    {
        var request = new DoctorRequest
        {
            Domain = Name(label),
            SendingAddress = DoctorDnsFixture.SendingIp,
            HeloName = DoctorDnsFixture.HeloName,
            DkimSelector = DoctorDnsFixture.Selector,
            DkimPrivateKeyPem = dns.SigningKeyPem,
            NameServers = [DoctorDnsFixture.EndPoint],
            QueryTimeout = TimeSpan.FromSeconds(2),
            Ed25519PublicKey = DkimEd25519.PublicKey,
        };
        configure?.Invoke(request);
        return new SenderDoctor().CheckAsync(request);
    }

    private static DoctorCheck Get(DoctorReport report, string id) => report.Find(id) ?? throw new InvalidOperationException($"No check {id}.\n{report}");

    /// <summary>Every check with its details, for an assertion's message (the CLI prints the report; see CliDoctorTests).</summary>
    private static string Dump(DoctorReport report) =>
        string.Join('\n', report.Checks.Select(c => string.Join("\n  ", [c.ToString(), .. c.Details])));

    private static void AssertStatus(DoctorReport report, string id, DoctorStatus status, string? found = null)
    {
        var check = Get(report, id);
        Assert.True(check.Status == status, $"{id}: expected {status}, got {check.Status}.\n{Dump(report)}");
        if (found is not null)
        {
            Assert.Contains(found, check.Found, StringComparison.Ordinal);
        }
    }

    // ---- The good domain -------------------------------------------------------------------------------------

    [Fact]
    public async Task Good_domain_passes_every_check_and_is_ready()
    {
        var report = await CheckAsync("good");

        Assert.Equal(["mx", "spf", "dkim", "dmarc", "alignment", "ptr", "fcrdns", "helo", "port25"], report.Checks.Select(c => c.Id));
        foreach (var check in report.Checks.Where(c => c.Id != "port25"))
        {
            Assert.True(check.Status == DoctorStatus.Pass, $"{check}\n{Dump(report)}");
            Assert.Null(check.Fix);
        }

        AssertStatus(report, "port25", DoctorStatus.Skipped);
        Assert.True(report.IsReady);
        Assert.Contains("mail.good.doctor.test", Get(report, "mx").Found, StringComparison.Ordinal);
        Assert.Contains("authorises 192.0.2.10", Get(report, "spf").Found, StringComparison.Ordinal);
        Assert.Contains("2048-bit RSA key matching the configured private key", Get(report, "dkim").Found, StringComparison.Ordinal);
        Assert.Contains("p=reject", Get(report, "dmarc").Found, StringComparison.Ordinal);
        Assert.Contains("include:_spf.good.doctor.test", string.Join('\n', Get(report, "spf").Details), StringComparison.Ordinal);
    }

    // ---- MX --------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Domain_without_mx_or_address_fails_the_mx_check()
    {
        var report = await CheckAsync("no-mx");
        AssertStatus(report, "mx", DoctorStatus.Fail);
        Assert.Contains("MX 10 mail.no-mx.doctor.test", Get(report, "mx").Fix, StringComparison.Ordinal);
        Assert.False(report.IsReady);
    }

    // ---- SPF -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Missing_spf_fails_with_the_record_to_publish()
    {
        var report = await CheckAsync("no-spf");
        AssertStatus(report, "spf", DoctorStatus.Fail, "no 'v=spf1' TXT record");
        Assert.Contains("\"v=spf1 ip4:192.0.2.10 -all\"", Get(report, "spf").Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spf_without_the_sending_ip_fails_and_suggests_adding_it()
    {
        var report = await CheckAsync("spf-without-ip");
        AssertStatus(report, "spf", DoctorStatus.Fail, "does not authorise 192.0.2.10: fail");
        Assert.Contains("\"v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 a -all\"", Get(report, "spf").Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Softfail_is_not_authorisation()
    {
        var report = await CheckAsync("softfail");
        AssertStatus(report, "spf", DoctorStatus.Fail, "softfail");
    }

    [Fact]
    public async Task Eleven_nested_includes_exceed_the_lookup_limit()
    {
        var report = await CheckAsync("lookups");
        AssertStatus(report, "spf", DoctorStatus.Fail, "permerror: include:l1.lookups.doctor.test: the evaluation needs more than 10 DNS lookups");
        Assert.Contains("l9.lookups.doctor.test: include:l10.lookups.doctor.test", string.Join('\n', Get(report, "spf").Details), StringComparison.Ordinal);
        Assert.Contains("under 10 DNS lookups", Get(report, "spf").Fix, StringComparison.Ordinal);

        var ten = await CheckAsync("lookups10");
        AssertStatus(ten, "spf", DoctorStatus.Pass, "10 of 10 DNS lookups");
    }

    [Theory]
    [InlineData("redirect", "redirect=_spf.redirect.doctor.test")]
    [InlineData("mx-mech", "'mx' in the record of mx-mech.doctor.test matched")]
    [InlineData("exists", "'exists:%{i}._allow.%{d}' in the record of exists.doctor.test matched")]
    public async Task Spf_mechanisms_authorise_the_address(string label, string found)
    {
        var report = await CheckAsync(label);
        AssertStatus(report, "spf", DoctorStatus.Pass, found);
    }

    [Fact]
    public async Task Ip6_range_authorises_an_ipv6_sender()
    {
        var report = await CheckAsync("ip6", r => r.SendingAddress = IPAddress.Parse("2001:db8:1::25"));
        AssertStatus(report, "spf", DoctorStatus.Pass, "authorises 2001:db8:1::25");

        var outside = await CheckAsync("ip6", r => r.SendingAddress = IPAddress.Parse("2001:db8:2::25"));
        AssertStatus(outside, "spf", DoctorStatus.Fail, "fail");
        Assert.Contains("ip6:2001:db8:2::25", Get(outside, "spf").Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("two-spf", "2 'v=spf1' records")]
    [InlineData("bad-syntax", "unknown mechanism 'foo'")]
    [InlineData("voids", "more than 2 lookups returned no records")]
    public async Task Broken_spf_records_are_permerrors(string label, string found)
    {
        var report = await CheckAsync(label);
        AssertStatus(report, "spf", DoctorStatus.Fail, "permerror");
        Assert.Contains(found, Get(report, "spf").Found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plus_all_passes_with_a_warning()
    {
        var report = await CheckAsync("plus-all");
        AssertStatus(report, "spf", DoctorStatus.Warn);
        Assert.Contains("every address on the Internet", Get(report, "spf").Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_sending_address_spf_is_checked_for_syntax_and_limits_only()
    {
        var report = await CheckAsync("good", r => r.SendingAddress = null);
        AssertStatus(report, "spf", DoctorStatus.Pass, "not checked against a sending address");
        AssertStatus(report, "ptr", DoctorStatus.Skipped);
        AssertStatus(report, "fcrdns", DoctorStatus.Skipped);
        AssertStatus(report, "helo", DoctorStatus.Pass, "resolves to 192.0.2.10");
        AssertStatus(report, "alignment", DoctorStatus.Pass, "SPF not checked");

        var lookups = await CheckAsync("lookups", r => r.SendingAddress = null);
        AssertStatus(lookups, "spf", DoctorStatus.Fail, "more than 10 DNS lookups");
    }

    // ---- DKIM ------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Missing_dkim_key_fails_with_the_record_to_publish()
    {
        var report = await CheckAsync("no-dkim");
        AssertStatus(report, "dkim", DoctorStatus.Fail, "No DKIM key record");
        using var key = RSA.Create();
        key.ImportFromPem(dns.SigningKeyPem);
        var p = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        Assert.Contains($"sel._domainkey.no-dkim.doctor.test: \"v=DKIM1; k=rsa; p={p}\"", Get(report, "dkim").Fix, StringComparison.Ordinal);

        // SPF still aligns, so DMARC would pass, but only until the mail is forwarded.
        AssertStatus(report, "alignment", DoctorStatus.Warn, "SPF passes for no-dkim.doctor.test, aligned");
    }

    [Fact]
    public async Task Key_in_dns_different_from_the_configured_one_fails()
    {
        var report = await CheckAsync("other-key");
        AssertStatus(report, "dkim", DoctorStatus.Fail, "is not the public half of the configured private key");

        // The published key itself is fine: with that key configured, or none, it passes.
        var matching = await CheckAsync("other-key", r => r.DkimPrivateKeyPem = dns.OtherKeyPem);
        AssertStatus(matching, "dkim", DoctorStatus.Warn, "1024-bit RSA key matching");
        var noKey = await CheckAsync("other-key", r => r.DkimPrivateKeyPem = null);
        AssertStatus(noKey, "dkim", DoctorStatus.Warn, "not compared");
    }

    [Theory]
    [InlineData("revoked", DoctorStatus.Fail, "revoked")]
    [InlineData("small-key", DoctorStatus.Fail, "768 bits")]
    [InlineData("pkcs1-key", DoctorStatus.Pass, "2048-bit RSA key matching")]
    [InlineData("testing", DoctorStatus.Warn, "testing mode (t=y)")]
    public async Task Dkim_key_records(string label, DoctorStatus status, string found)
    {
        var report = await CheckAsync(label);
        AssertStatus(report, "dkim", status, found);
    }

    [Fact]
    public async Task Unreadable_private_key_fails_the_dkim_check()
    {
        var report = await CheckAsync("good", r => r.DkimPrivateKeyPem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        AssertStatus(report, "dkim", DoctorStatus.Fail, "cannot be read");
    }

    [Fact]
    public async Task Without_a_selector_dkim_is_skipped()
    {
        var report = await CheckAsync("good", r => (r.DkimSelector, r.DkimPrivateKeyPem) = (null, null));
        AssertStatus(report, "dkim", DoctorStatus.Skipped);
        AssertStatus(report, "alignment", DoctorStatus.Warn, "DKIM not checked");
        Assert.True(report.IsReady);
    }

    // ---- DKIM with Ed25519 (RFC 8463) -------------------------------------------------------------------------

    private string Ed25519Record => "\"v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(dns.Ed25519PublicKey) + "\"";

    private Task<DoctorReport> CheckEd25519Async(string selector, string? pem, Action<DoctorRequest>? configure = null) =>
        CheckAsync("good", r =>
        {
            (r.DkimSelector, r.DkimPrivateKeyPem) = (selector, pem);
            configure?.Invoke(r);
        });

    [Fact]
    public async Task Rsa_and_ed25519_selectors_are_each_checked_and_reported_on_their_own()
    {
        var report = await CheckAsync("good", r => r.AdditionalDkimKeys = [new DoctorDkimKey(DoctorDnsFixture.Ed25519Selector, dns.Ed25519KeyPem)]);

        Assert.Equal(["mx", "spf", "dkim", "dkim", "dmarc", "alignment", "ptr", "fcrdns", "helo", "port25"], report.Checks.Select(c => c.Id));
        var dkim = report.Checks.Where(c => c.Id == "dkim").ToList();
        Assert.Equal(["DKIM key (sel)", "DKIM key (ed)"], dkim.Select(c => c.Title));
        Assert.All(dkim, c => Assert.True(c.Status == DoctorStatus.Pass && c.Fix is null, Dump(report)));
        Assert.Equal("sel._domainkey.good.doctor.test publishes a 2048-bit RSA key matching the configured private key.", dkim[0].Found);
        Assert.Equal("ed._domainkey.good.doctor.test publishes an ed25519 key (RFC 8463) matching the configured private key.", dkim[1].Found);
        AssertStatus(report, "alignment", DoctorStatus.Pass);
        Assert.True(report.IsReady, Dump(report));
    }

    [Fact]
    public async Task Ed25519_only_domain_warns_that_the_large_providers_verify_only_rsa()
    {
        var report = await CheckEd25519Async(DoctorDnsFixture.Ed25519Selector, dns.Ed25519KeyPem);

        var dkim = Get(report, "dkim");
        AssertStatus(report, "dkim", DoctorStatus.Warn, "ed._domainkey.good.doctor.test publishes an ed25519 key (RFC 8463) matching the configured private key.");
        Assert.Equal("DKIM key", dkim.Title);
        Assert.Contains("Gmail, Outlook and Yahoo verify only rsa-sha256", dkim.Found, StringComparison.Ordinal);
        Assert.StartsWith("Sign with an RSA key as well, at another selector", dkim.Fix, StringComparison.Ordinal);
        Assert.True(report.IsReady, Dump(report)); // a warning: RFC 8463 verifiers accept it
        AssertStatus(report, "alignment", DoctorStatus.Warn, "with an ed25519 key only, which Gmail, Outlook and Yahoo do not verify: there, only SPF aligns.");

        // Beside a working RSA key the same record passes; beside a broken one it still warns (and the RSA check fails).
        var broken = await CheckAsync("good", r => (r.DkimSelector, r.DkimPrivateKeyPem, r.AdditionalDkimKeys) = ("ed-other", dns.SigningKeyPem, [new DoctorDkimKey("ed", dns.Ed25519KeyPem)]));
        Assert.Equal([DoctorStatus.Fail, DoctorStatus.Warn], broken.Checks.Where(c => c.Id == "dkim").Select(c => c.Status));
        Assert.Contains("No RSA key checked here works beside it", broken.Checks.Last(c => c.Id == "dkim").Found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ed25519_key_in_dns_different_from_the_configured_one_fails()
    {
        var report = await CheckEd25519Async("ed-other", dns.Ed25519KeyPem);
        AssertStatus(report, "dkim", DoctorStatus.Fail, "The ed25519 key at ed-other._domainkey.good.doctor.test is not the public half of the configured private key");
        Assert.Equal($"Publish a TXT record at ed-other._domainkey.good.doctor.test: {Ed25519Record}.", Get(report, "dkim").Fix);
        AssertStatus(report, "alignment", DoctorStatus.Warn, "DKIM with d=good.doctor.test would not verify");

        // With that key configured it matches.
        var matching = await CheckEd25519Async("ed-other", dns.OtherEd25519KeyPem);
        AssertStatus(matching, "dkim", DoctorStatus.Warn, "ed-other._domainkey.good.doctor.test publishes an ed25519 key (RFC 8463) matching the configured private key.");
    }

    [Theory]
    [InlineData("ed-short", "p= is 31 octets; an ed25519 key is the 32 raw octets of the public key (RFC 8463 section 4.2)")]
    [InlineData("ed-spki", "p= holds the key as a SubjectPublicKeyInfo (44 octets, the base64 of a PEM PUBLIC KEY)")]
    [InlineData("ed-rsa", "p= holds an RSA key (2048 bits) under k=ed25519")]
    [InlineData("ed-base64", "p= is not valid base64")]
    public async Task Malformed_ed25519_records_fail_with_what_is_wrong(string selector, string found)
    {
        var report = await CheckEd25519Async(selector, dns.Ed25519KeyPem);
        AssertStatus(report, "dkim", DoctorStatus.Fail, found);
        Assert.Equal($"Publish a TXT record at {selector}._domainkey.good.doctor.test: {Ed25519Record}.", Get(report, "dkim").Fix);
    }

    [Fact]
    public async Task Ed25519_record_published_as_a_public_key_info_names_the_p_to_publish()
    {
        var report = await CheckEd25519Async("ed-spki", null);
        AssertStatus(report, "dkim", DoctorStatus.Fail, "publish p=" + Convert.ToBase64String(dns.Ed25519PublicKey) + ".");
        Assert.StartsWith("Publish a TXT record at ed-spki._domainkey.good.doctor.test: \"v=DKIM1; k=ed25519; p=<the 32-octet public key, base64>\"", Get(report, "dkim").Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_of_the_wrong_kind_for_the_record_fails()
    {
        var rsaForEd25519 = await CheckEd25519Async(DoctorDnsFixture.Ed25519Selector, dns.SigningKeyPem);
        AssertStatus(rsaForEd25519, "dkim", DoctorStatus.Fail, "is ed25519 (k=ed25519) and the private key configured for it is RSA");

        var ed25519ForRsa = await CheckEd25519Async(DoctorDnsFixture.Selector, dns.Ed25519KeyPem);
        AssertStatus(ed25519ForRsa, "dkim", DoctorStatus.Fail, "is RSA (k=rsa) and the private key configured for it is ed25519");
        Assert.Equal($"Publish the ed25519 key at sel ({Ed25519Record}), or configure the RSA private key that signs with it.", Get(ed25519ForRsa, "dkim").Fix);
    }

    [Fact]
    public async Task Ed25519_key_without_a_key_reader_is_recognised_but_not_compared()
    {
        var report = await CheckEd25519Async("ed-other", dns.Ed25519KeyPem, r => r.Ed25519PublicKey = null);
        AssertStatus(report, "dkim", DoctorStatus.Warn, "not compared with the configured ed25519 private key");
        Assert.StartsWith("Set DoctorRequest.Ed25519PublicKey = DkimEd25519.PublicKey", Get(report, "dkim").Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Damaged_ed25519_private_key_fails_the_dkim_check()
    {
        // The PKCS#8 cut after its algorithm identifier: recognised as Ed25519, unreadable.
        var der = Convert.FromBase64String(string.Concat(dns.Ed25519KeyPem.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
        var damaged = new string(PemEncoding.Write("PRIVATE KEY", der.AsSpan(0, 14)));

        var report = await CheckEd25519Async(DoctorDnsFixture.Ed25519Selector, damaged);
        AssertStatus(report, "dkim", DoctorStatus.Fail, "The private key configured for selector ed cannot be read: the private key cannot be read as a PKCS#8 key");
    }

    [Theory]
    [InlineData("sel")]
    [InlineData("SEL")]
    [InlineData("not a selector")]
    public async Task Additional_selectors_that_repeat_or_are_not_selectors_are_refused(string selector)
    {
        var request = new DoctorRequest { Domain = "example.com", DkimSelector = "sel", AdditionalDkimKeys = [new DoctorDkimKey(selector)] };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new SenderDoctor().CheckAsync(request));
        Assert.Equal(nameof(DoctorRequest.AdditionalDkimKeys), e.ParamName);
    }

    // ---- DMARC -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Missing_dmarc_fails_with_the_record_to_publish()
    {
        var report = await CheckAsync("no-dmarc");
        AssertStatus(report, "dmarc", DoctorStatus.Fail, "No DMARC record at _dmarc.no-dmarc.doctor.test or _dmarc.doctor.test");
        Assert.Contains("_dmarc.no-dmarc.doctor.test: \"v=DMARC1; p=none; rua=mailto:dmarc-reports@no-dmarc.doctor.test\"", Get(report, "dmarc").Fix, StringComparison.Ordinal);
        AssertStatus(report, "alignment", DoctorStatus.Pass);
        Assert.False(report.IsReady);
    }

    [Fact]
    public async Task Policy_none_is_a_warning()
    {
        var report = await CheckAsync("monitor", r => r.DkimSelector = r.DkimPrivateKeyPem = null);
        AssertStatus(report, "dmarc", DoctorStatus.Warn, "p=none");
        Assert.Contains("p=quarantine", Get(report, "dmarc").Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subdomain_without_a_record_uses_the_parents_subdomain_policy()
    {
        var report = await CheckAsync("sub.inherit", r => r.DkimSelector = r.DkimPrivateKeyPem = null);
        AssertStatus(report, "dmarc", DoctorStatus.Pass, "the parent's _dmarc.inherit.doctor.test applies");
        Assert.Contains("policy reject", Get(report, "dmarc").Found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_dmarc_record_fails()
    {
        var report = await CheckAsync("bad-dmarc", r => r.DkimSelector = r.DkimPrivateKeyPem = null);
        AssertStatus(report, "dmarc", DoctorStatus.Fail, "p= tag (the policy) is missing");
    }

    [Fact]
    public async Task Strict_spf_alignment_rejects_a_mail_from_subdomain()
    {
        var report = await CheckAsync("strict", r => (r.MailFromDomain, r.DkimSelector, r.DkimPrivateKeyPem) = ("bounces.strict.doctor.test", null, null));
        AssertStatus(report, "spf", DoctorStatus.Pass);
        AssertStatus(report, "alignment", DoctorStatus.Fail, "not aligned with From strict.doctor.test (strict)");

        // Relaxed alignment (the default) accepts the subdomain.
        var relaxed = await CheckAsync("good", r => (r.MailFromDomain, r.DkimSelector, r.DkimPrivateKeyPem) = ("bounces.good.doctor.test", null, null));
        AssertStatus(relaxed, "alignment", DoctorStatus.Warn, "SPF passes for bounces.good.doctor.test, aligned with From good.doctor.test (relaxed)");
        AssertStatus(relaxed, "mx", DoctorStatus.Pass, "bounces.good.doctor.test receives mail");

        // Neither subdomain nor sibling: not aligned even when relaxed.
        var elsewhere = await CheckAsync("good", r => (r.MailFromDomain, r.DkimSelector, r.DkimPrivateKeyPem) = ("bounces.strict.doctor.test", null, null));
        AssertStatus(elsewhere, "alignment", DoctorStatus.Fail, "SPF passes for bounces.strict.doctor.test, not aligned");
    }

    // ---- Reverse DNS and HELO --------------------------------------------------------------------------------

    [Fact]
    public async Task Address_without_ptr_fails()
    {
        var report = await CheckAsync("good", r => r.SendingAddress = IPAddress.Parse("192.0.2.20"));
        AssertStatus(report, "ptr", DoctorStatus.Fail, "192.0.2.20 has no PTR record");
        Assert.Contains("set its PTR to mail.good.doctor.test", Get(report, "ptr").Fix, StringComparison.Ordinal);
        AssertStatus(report, "fcrdns", DoctorStatus.Skipped);
        AssertStatus(report, "helo", DoctorStatus.Warn, "192.0.2.20 has no PTR");
    }

    [Fact]
    public async Task Ptr_name_resolving_to_another_address_fails_fcrdns()
    {
        var report = await CheckAsync("good", r => (r.SendingAddress, r.HeloName) = (IPAddress.Parse("192.0.2.30"), "fwd-mismatch.doctor.test"));
        AssertStatus(report, "ptr", DoctorStatus.Pass, "PTR fwd-mismatch.doctor.test");
        AssertStatus(report, "fcrdns", DoctorStatus.Fail, "fwd-mismatch.doctor.test resolves to 192.0.2.31");
        AssertStatus(report, "helo", DoctorStatus.Warn, "is the PTR name of 192.0.2.30, but does not resolve back to it");
    }

    [Fact]
    public async Task Helo_not_matching_the_ptr_is_a_warning()
    {
        var report = await CheckAsync("good", r => r.HeloName = "other.good.doctor.test");
        AssertStatus(report, "fcrdns", DoctorStatus.Pass);
        AssertStatus(report, "helo", DoctorStatus.Warn, "the PTR of 192.0.2.10 is mail.good.doctor.test");
        Assert.Contains("HeloName to mail.good.doctor.test", Get(report, "helo").Fix, StringComparison.Ordinal);
        Assert.True(report.IsReady);
    }

    [Theory]
    [InlineData("localhost", DoctorStatus.Fail, "not fully qualified")]
    [InlineData("[192.0.2.10]", DoctorStatus.Warn, "address literal")]
    public async Task Helo_names_that_receivers_dislike(string helo, DoctorStatus status, string found)
    {
        var report = await CheckAsync("good", r => r.HeloName = helo);
        AssertStatus(report, "helo", status, found);
    }

    // ---- Port 25 (opt-in; a loopback listener only) ----------------------------------------------------------

    [Fact]
    public async Task Port25_probe_connects_to_the_first_mx_of_the_probe_domain()
    {
        var listener = new TcpListener(DoctorDnsFixture.Address, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var accepted = listener.AcceptTcpClientAsync();
            var report = await CheckAsync("good", r => (r.Port25ProbeDomain, r.Port25ProbePort, r.AllowNonPublicProbeAddress) = (Name("probe"), port, true));
            AssertStatus(report, "port25", DoctorStatus.Pass, $"Connected to mx.probe.doctor.test (127.0.53.27) port {port}");
            using var client = await accepted.WaitAsync(TimeSpan.FromSeconds(5));

            // README: "nothing is sent". The probe closed the connection without a byte (not even EHLO or QUIT).
            var buffer = new byte[64];
            Assert.Equal(0, await client.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Port25_probe_reports_a_refused_connection_and_never_connects_to_non_public_addresses_by_default()
    {
        var listener = new TcpListener(DoctorDnsFixture.Address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var refused = await CheckAsync("good", r => (r.Port25ProbeDomain, r.Port25ProbePort, r.AllowNonPublicProbeAddress) = (Name("probe"), port, true));
        AssertStatus(refused, "port25", DoctorStatus.Fail, "ConnectionRefused");

        var loopback = await CheckAsync("good", r => r.Port25ProbeDomain = Name("probe"));
        AssertStatus(loopback, "port25", DoctorStatus.Fail, "has no public address");
    }

    // ---- The request -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData("[192.0.2.1]")]
    [InlineData("bad..domain")]
    public async Task Invalid_domains_are_refused(string domain)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => new SenderDoctor().CheckAsync(new DoctorRequest { Domain = domain }));
    }

    [Fact]
    public async Task Private_key_without_selector_is_refused()
    {
        var request = new DoctorRequest { Domain = "example.com", DkimPrivateKeyPem = dns.SigningKeyPem };
        await Assert.ThrowsAsync<ArgumentException>(() => new SenderDoctor().CheckAsync(request));
    }

    [Theory]
    [InlineData("192.0.2.53", "192.0.2.53:53")]
    [InlineData("127.0.0.1:10053", "127.0.0.1:10053")]
    [InlineData("2001:db8::53", "[2001:db8::53]:53")]
    [InlineData("[2001:db8::53]:5353", "[2001:db8::53]:5353")]
    public void Name_servers_parse_with_port_53_by_default(string text, string expected)
    {
        Assert.Equal(expected, DoctorRequest.ParseNameServer(text).ToString());
    }

    [Theory]
    [InlineData("dns.example")]
    [InlineData("192.0.2.1:")]
    [InlineData("192.0.2.1:0")]
    public void Name_servers_that_are_not_addresses_are_refused(string text)
    {
        Assert.Throws<FormatException>(() => DoctorRequest.ParseNameServer(text));
    }
}
