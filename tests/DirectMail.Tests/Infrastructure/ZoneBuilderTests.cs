using System;
using System.Linq;
using System.Net;

namespace DirectMail.Tests.Infrastructure;

/// <summary>The zone text <see cref="ZoneBuilder"/> writes, without a server.</summary>
public sealed class ZoneBuilderTests
{
    [Fact]
    public void The_header_has_origin_ttl_soa_and_ns_with_its_address()
    {
        var text = new ZoneBuilder("example.test").WithNameServer(IPAddress.Parse("127.0.53.99")).Text;

        Assert.Equal(
            "$ORIGIN example.test.\n$TTL 300\n@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60\n@ NS ns.example.test.\nns.example.test. A 127.0.53.99\n",
            text);
    }

    [Fact]
    public void Soa_ns_and_ttl_can_be_changed_and_left_out()
    {
        Assert.Equal(
            "$ORIGIN b.test.\n$TTL 3600\n@ SOA ns.a.test. hostmaster.a.test. 1 3600 600 86400 300\n@ NS ns.a.test.\n",
            new ZoneBuilder("b.test.", ttl: 3600).WithSoa("ns.a.test.", "hostmaster.a.test.", minimum: 300).WithNameServer("ns.a.test.").Text);
        Assert.Equal("$ORIGIN c.test.\n$TTL 300\nthis is not a record\n", new ZoneBuilder("c.test").WithoutApexRecords().Raw("this is not a record").Text);
    }

    [Fact]
    public void Records_are_written_in_order_with_their_ttls()
    {
        var zone = new ZoneBuilder("z.test")
            .Mx("ttl", 10, "mx.ttl", ttl: 120)
            .A("mx.ttl", "192.0.2.95", ttl: 40)
            .Mx("two", 20, "mx.two", IPAddress.Parse("127.0.26.1"), IPAddress.IPv6Loopback)
            .NullMx("nullmx")
            .Cname("alias", "real")
            .Aaaa("real", "2001:db8::1")
            .Ns("child", "ns.child")
            .Ptr("10", "mail.z.test.")
            .Tlsa("_25._tcp.mx", 3, 1, 1, [0xAB, 0x01]);

        Assert.Equal(
            ["ttl 120 MX 10 mx.ttl", "mx.ttl 40 A 192.0.2.95", "two MX 20 mx.two", "mx.two A 127.0.26.1", "mx.two AAAA ::1", "nullmx MX 0 .", "alias CNAME real", "real AAAA 2001:db8::1", "child NS ns.child", "10 PTR mail.z.test.", "_25._tcp.mx TLSA 3 1 1 AB01"],
            zone.Text.Split('\n').Skip(4).SkipLast(1));
    }

    [Fact]
    public void Txt_is_quoted_escaped_and_cut_into_character_strings_of_255_octets()
    {
        var value = new string('a', 254) + "é" + "\"\\;" + new string('b', 300);

        var line = new ZoneBuilder("z.test").Txt("t", value).Text.Split('\n')[4];

        // 254 a, then é (2 octets) is cut after its first octet: the split is by octets, the text is UTF-8.
        Assert.Equal("t TXT \"" + new string('a', 254) + "\\195\" \"\\169\\\"\\\\;" + new string('b', 251) + "\" \"" + new string('b', 49) + "\"", line);
    }

    [Fact]
    public void Txt_strings_are_written_as_given_and_refused_over_255_octets()
    {
        Assert.Equal("t TXT \"v=1; \" \"rua=x\"", new ZoneBuilder("z.test").TxtStrings("t", "v=1; ", "rua=x").Text.Split('\n')[4]);
        Assert.Equal("t TXT \"\"", new ZoneBuilder("z.test").Txt("t", string.Empty).Text.Split('\n')[4]);
        Assert.Throws<ArgumentException>(() => new ZoneBuilder("z.test").TxtStrings("t", new string('x', 256)));
    }

    [Fact]
    public void An_address_of_the_wrong_family_or_a_name_with_a_space_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new ZoneBuilder("z.test").A("a", IPAddress.IPv6Loopback));
        Assert.Throws<ArgumentException>(() => new ZoneBuilder("z.test").Aaaa("a", IPAddress.Loopback));
        Assert.Throws<ArgumentException>(() => new ZoneBuilder("z.test").Cname("a b", "c"));
    }

    [Fact]
    public void Build_names_the_zone_by_its_origin()
    {
        var zone = new ZoneBuilder("z.test.").Build();

        Assert.Equal("z.test", zone.Name);
        Assert.StartsWith("$ORIGIN z.test.\n", zone.Text);
    }
}
