using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Doctor;

namespace DirectMail.Tests.Doctor;

/// <summary>RFC 7208 check_host() against DNS answered from memory.</summary>
public sealed class SpfEvaluatorTests
{
    private static async Task<SpfEvaluation> Check(FakeDoctorDns dns, string ip, string domain = "example.com", string? sender = null)
    {
        var address = ip.Length == 0 ? null : IPAddress.Parse(ip);
        return await new SpfEvaluator(dns).CheckHostAsync(address, domain, sender ?? "postmaster@" + domain, "mail.example.com", CancellationToken.None);
    }

    private static async Task<SpfResult> Result(string record, string ip, FakeDoctorDns? dns = null)
    {
        dns ??= new FakeDoctorDns();
        dns.SetTxt("example.com", record);
        return (await Check(dns, ip)).Result;
    }

    [Theory]
    [InlineData("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.200", "Pass")]
    [InlineData("v=spf1 ip4:192.0.2.0/25 -all", "192.0.2.200", "Fail")]
    [InlineData("v=spf1 ip4:192.0.2.128/25 -all", "192.0.2.200", "Pass")]
    [InlineData("v=spf1 ip4:192.0.2.10 -all", "192.0.2.10", "Pass")]
    [InlineData("v=spf1 ip4:192.0.2.10/32 -all", "192.0.2.11", "Fail")]
    [InlineData("v=spf1 ip4:0.0.0.0/0 -all", "203.0.113.9", "Pass")]
    [InlineData("v=spf1 ip4:192.0.2.0/23 -all", "192.0.3.1", "Pass")]
    [InlineData("v=spf1 ip4:192.0.2.0/24 -all", "2001:db8::1", "Fail")]
    [InlineData("v=spf1 ip6:2001:db8::/32 -all", "2001:db8:ffff::1", "Pass")]
    [InlineData("v=spf1 ip6:2001:db8::/33 -all", "2001:db8:ffff::1", "Fail")]
    [InlineData("v=spf1 ip6:2001:db8::1 -all", "2001:db8::1", "Pass")]
    [InlineData("v=spf1 ip6:::ffff:0:0/96 -all", "192.0.2.1", "Fail")]
    [InlineData("v=spf1 ip4:192.0.2.1 -all", "::ffff:192.0.2.1", "Pass")]
    public async Task Cidr_ranges(string record, string ip, string expected)
    {
        Assert.Equal(expected, (await Result(record, ip)).ToString());
    }

    [Theory]
    [InlineData("v=spf1 all", "Pass")]
    [InlineData("v=spf1 +all", "Pass")]
    [InlineData("v=spf1 -all", "Fail")]
    [InlineData("v=spf1 ~all", "SoftFail")]
    [InlineData("v=spf1 ?all", "Neutral")]
    [InlineData("v=spf1", "Neutral")]
    [InlineData("v=spf1 -ip4:192.0.2.1 +all", "Fail")]
    [InlineData("v=spf1 ?ip4:192.0.2.1 -all", "Neutral")]
    [InlineData("V=SPF1 IP4:192.0.2.1 -ALL", "Pass")]
    [InlineData("v=spf1   ip4:192.0.2.1   -all  ", "Pass")]
    [InlineData("v=spf1 -all ip4:192.0.2.1", "Fail")]
    [InlineData("v=spf1 ip4:192.0.2.1 unknown-modifier=%{d} exp=explain.%{d} -all", "Pass")]
    public async Task Qualifiers_and_order(string record, string expected)
    {
        Assert.Equal(expected, (await Result(record, "192.0.2.1")).ToString());
    }

    [Theory]
    [InlineData("v=spf1 ip4:192.0.2.1/33 -all")]
    [InlineData("v=spf1 ip4:192.0.2.1/024 -all")]
    [InlineData("v=spf1 ip4:192.0.2 -all")]
    [InlineData("v=spf1 ip4:2001:db8::1 -all")]
    [InlineData("v=spf1 ip6:192.0.2.1 -all")]
    [InlineData("v=spf1 ip6:2001:db8::/129 -all")]
    [InlineData("v=spf1 a/33 -all")]
    [InlineData("v=spf1 mx//129 -all")]
    [InlineData("v=spf1 include -all")]
    [InlineData("v=spf1 all:example.com")]
    [InlineData("v=spf1 foo -all")]
    [InlineData("v=spf1 redirect=a.example.com redirect=b.example.com")]
    [InlineData("v=spf1 include:%{x}.example.com -all")]
    [InlineData("v=spf1 include:%{d0}.example.com -all")]
    [InlineData("v=spf1 include:%{c}.example.com -all")]
    [InlineData("v=spf1 include:%(d).example.com -all")]
    [InlineData("v=spf1 include:%{d -all")]
    [InlineData("v=spf1 ip4:192.0.2.1 -all %")]
    public async Task Syntax_errors_are_permerrors_even_after_a_match(string record)
    {
        // Section 4.6: the whole record is parsed before anything is evaluated.
        Assert.Equal(SpfResult.PermError, await Result(record, "192.0.2.1"));
    }

    [Fact]
    public async Task None_temperror_and_multiple_records()
    {
        var dns = new FakeDoctorDns().Txt("example.com", "not spf", "v=spf10 something").Txt("two.example", "v=spf1 -all", "v=spf1 +all");
        dns.Failing.Add("down.example");
        Assert.Equal(SpfResult.None, (await Check(dns, "192.0.2.1")).Result);
        Assert.Equal(SpfResult.None, (await Check(dns, "192.0.2.1", "missing.example")).Result);
        Assert.Equal(SpfResult.None, (await Check(dns, "192.0.2.1", "nodots")).Result);
        Assert.Equal(SpfResult.PermError, (await Check(dns, "192.0.2.1", "two.example")).Result);
        Assert.Equal(SpfResult.TempError, (await Check(dns, "192.0.2.1", "down.example")).Result);
    }

    [Fact]
    public async Task Include_matches_on_pass_only_and_propagates_errors()
    {
        var dns = new FakeDoctorDns()
            .Txt("pass.example", "v=spf1 ip4:192.0.2.1 -all")
            .Txt("fail.example", "v=spf1 -all")
            .Txt("perm.example", "v=spf1 bogus")
            .Exists("nospf.example");
        dns.Failing.Add("temp.example");
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 include:pass.example -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.SoftFail, await Result("v=spf1 include:fail.example ~all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.SoftFail, await Result("v=spf1 include:pass.example ~all", "192.0.2.2", dns));
        Assert.Equal(SpfResult.PermError, await Result("v=spf1 include:perm.example -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.PermError, await Result("v=spf1 include:nospf.example -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.TempError, await Result("v=spf1 include:temp.example -all", "192.0.2.1", dns));
    }

    [Fact]
    public async Task Redirect_applies_when_nothing_matched()
    {
        var dns = new FakeDoctorDns().Txt("policy.example", "v=spf1 ip4:192.0.2.1 ~all").Exists("empty.example");
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 redirect=policy.example", "192.0.2.1", dns));
        Assert.Equal(SpfResult.SoftFail, (await Check(dns, "192.0.2.2")).Result);

        // An "all" before it wins; a redirect to a domain without SPF is a permerror.
        Assert.Equal(SpfResult.Neutral, await Result("v=spf1 ?all redirect=policy.example", "192.0.2.1", dns));
        Assert.Equal(SpfResult.PermError, await Result("v=spf1 redirect=empty.example", "192.0.2.1", new FakeDoctorDns().Exists("empty.example")));
    }

    [Fact]
    public async Task A_and_mx_with_dual_cidr()
    {
        var dns = new FakeDoctorDns()
            .A("example.com", "192.0.2.1", "2001:db8::1")
            .Mx("example.com", "mx1.example.com", "mx2.example.com")
            .A("mx1.example.com", "198.51.100.1")
            .A("mx2.example.com", "198.51.100.130")
            .A("other.example", "203.0.113.1");
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 a -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.Fail, await Result("v=spf1 a -all", "192.0.2.2", dns));
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 a/24 -all", "192.0.2.2", dns));
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 a//64 -all", "2001:db8::2", dns));
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 a:other.example/30 -all", "203.0.113.2", dns));
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 mx -all", "198.51.100.130", dns));
        Assert.Equal(SpfResult.Fail, await Result("v=spf1 mx -all", "198.51.100.2", dns));
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 mx/24 -all", "198.51.100.2", dns));
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 mx:example.com/25//64 -all", "198.51.100.129", dns));
    }

    [Fact]
    public async Task Ten_lookups_are_allowed_and_the_eleventh_is_a_permerror()
    {
        var dns = new FakeDoctorDns();
        for (var i = 0; i < 11; i++)
        {
            dns.A($"h{i}.example", "198.51.100.1");
        }

        var ten = string.Join(' ', Enumerable.Range(0, 10).Select(i => $"a:h{i}.example"));
        dns.Txt("ten.example", $"v=spf1 {ten} ip4:192.0.2.1 -all");
        dns.Txt("eleven.example", $"v=spf1 {ten} a:h10.example ip4:192.0.2.1 -all");
        var passed = await Check(dns, "192.0.2.1", "ten.example");
        Assert.Equal(SpfResult.Pass, passed.Result);
        Assert.Equal(10, passed.DnsLookups);

        var exceeded = await Check(dns, "192.0.2.1", "eleven.example");
        Assert.Equal(SpfResult.PermError, exceeded.Result);
        Assert.Contains("more than 10 DNS lookups", exceeded.Reason, System.StringComparison.Ordinal);

        // ip4, ip6 and all cost nothing; a match before the limit ends the evaluation.
        dns.Txt("early.example", $"v=spf1 ip4:192.0.2.1 {ten} a:h10.example -all");
        var early = await Check(dns, "192.0.2.1", "early.example");
        Assert.Equal((SpfResult.Pass, 0), (early.Result, early.DnsLookups));
    }

    [Fact]
    public async Task Lookups_count_across_includes_and_redirects()
    {
        var dns = new FakeDoctorDns()
            .Txt("example.com", "v=spf1 include:i1.example redirect=r.example")
            .Txt("i1.example", "v=spf1 mx a exists:x.example -all")
            .Exists("x.example")
            .Mx("i1.example", "mx.i1.example")
            .A("mx.i1.example", "198.51.100.9")
            .A("i1.example", "198.51.100.10")
            .Txt("r.example", "v=spf1 a:x.example ip4:192.0.2.1 -all");
        var result = await Check(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Pass, result.Result);

        // include, mx, a, exists, redirect, a: 6 (the MX host's address lookup does not count).
        Assert.Equal(6, result.DnsLookups);

        // exists:x.example and a:x.example found nothing: 2 void lookups, still allowed.
        Assert.Equal(2, result.VoidLookups);
    }

    [Fact]
    public async Task A_third_void_lookup_is_a_permerror()
    {
        var dns = new FakeDoctorDns().Txt("example.com", "v=spf1 a:n1.example a:n2.example a:n3.example ip4:192.0.2.1 -all");
        var result = await Check(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, result.Result);
        Assert.Equal(3, result.VoidLookups);
    }

    [Fact]
    public async Task Mx_with_more_than_ten_records_is_a_permerror()
    {
        var hosts = Enumerable.Range(0, 11).Select(i => $"mx{i}.example.com").ToArray();
        var dns = new FakeDoctorDns().Mx("example.com", hosts);
        Assert.Equal(SpfResult.PermError, await Result("v=spf1 mx -all", "192.0.2.1", dns));
    }

    [Fact]
    public async Task Failing_lookups_are_temperrors()
    {
        var dns = new FakeDoctorDns().Mx("mx.example", "down.example");
        dns.Failing.Add("down.example");
        Assert.Equal(SpfResult.TempError, await Result("v=spf1 a:down.example -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.TempError, await Result("v=spf1 exists:down.example -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.TempError, await Result("v=spf1 mx:mx.example -all", "192.0.2.1", dns));
    }

    [Fact]
    public async Task Exists_with_macros()
    {
        var dns = new FakeDoctorDns()
            .A("1.2.0.192.in-addr._spf.example.com", "127.0.0.2")
            .A("alice.senders.example.com", "127.0.0.2");
        Assert.Equal(SpfResult.Pass, await Result("v=spf1 exists:%{ir}.%{v}._spf.%{d} -all", "192.0.2.1", dns));
        Assert.Equal(SpfResult.Fail, await Result("v=spf1 exists:%{ir}.%{v}._spf.%{d} -all", "192.0.2.2", dns));

        dns.SetTxt("example.com", "v=spf1 exists:%{l}.senders.%{o} -all");
        Assert.Equal(SpfResult.Pass, (await Check(dns, "192.0.2.9", sender: "alice@example.com")).Result);
        Assert.Equal(SpfResult.Fail, (await Check(dns, "192.0.2.9", sender: "bob@example.com")).Result);
    }

    [Fact]
    public async Task Ptr_matches_a_forward_confirmed_name_under_the_domain_and_warns()
    {
        var dns = new FakeDoctorDns().Ptr("192.0.2.1", "mail.example.com").A("mail.example.com", "192.0.2.1");
        dns.Txt("example.com", "v=spf1 ptr -all");
        var result = await Check(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Pass, result.Result);
        Assert.Contains(result.Warnings, w => w.Contains("RFC 7208 section 5.5", System.StringComparison.Ordinal));
        Assert.Equal(SpfResult.Fail, (await Check(dns, "192.0.2.2")).Result);
    }

    [Fact]
    public async Task Without_an_address_every_term_is_still_looked_up()
    {
        var dns = new FakeDoctorDns().Txt("example.com", "v=spf1 a mx include:i.example -all").Txt("i.example", "v=spf1 ip4:192.0.2.1 -all").A("example.com", "192.0.2.1").Mx("example.com", "example.com");
        var result = await Check(dns, string.Empty);
        Assert.Equal(SpfResult.Fail, result.Result);
        Assert.Equal(3, result.DnsLookups);
    }
}
