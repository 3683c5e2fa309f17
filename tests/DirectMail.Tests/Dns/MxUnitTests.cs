using System;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Dns;

namespace DirectMail.Tests.Dns;

/// <summary>Rules that need no DNS server: address scopes, domain parsing (IDN, literals), options.</summary>
public sealed class MxUnitTests
{
    [Theory]
    [InlineData("8.8.8.8", AddressScope.Public)]
    [InlineData("2a00:1450:4001:80b::200e", AddressScope.Public)]
    [InlineData("0.0.0.0", AddressScope.Unspecified)]
    [InlineData("::", AddressScope.Unspecified)]
    [InlineData("127.0.0.1", AddressScope.Loopback)]
    [InlineData("127.255.0.9", AddressScope.Loopback)]
    [InlineData("::1", AddressScope.Loopback)]
    [InlineData("10.0.0.1", AddressScope.Private)]
    [InlineData("172.16.0.1", AddressScope.Private)]
    [InlineData("172.31.255.255", AddressScope.Private)]
    [InlineData("172.32.0.1", AddressScope.Public)]
    [InlineData("192.168.1.1", AddressScope.Private)]
    [InlineData("fc00::1", AddressScope.Private)]
    [InlineData("fdff::1", AddressScope.Private)]
    [InlineData("169.254.0.1", AddressScope.LinkLocal)]
    [InlineData("fe80::1", AddressScope.LinkLocal)]
    [InlineData("febf::1", AddressScope.LinkLocal)]
    [InlineData("100.64.0.1", AddressScope.SharedCgnat)]
    [InlineData("100.127.255.255", AddressScope.SharedCgnat)]
    [InlineData("100.128.0.1", AddressScope.Public)]
    [InlineData("224.0.0.1", AddressScope.Multicast)]
    [InlineData("239.255.255.255", AddressScope.Multicast)]
    [InlineData("ff02::1", AddressScope.Multicast)]
    [InlineData("192.0.2.1", AddressScope.Documentation)]
    [InlineData("198.51.100.1", AddressScope.Documentation)]
    [InlineData("203.0.113.1", AddressScope.Documentation)]
    [InlineData("2001:db8::1", AddressScope.Documentation)]
    [InlineData("0.1.2.3", AddressScope.Reserved)]
    [InlineData("192.0.0.8", AddressScope.Reserved)]
    [InlineData("198.18.0.1", AddressScope.Reserved)]
    [InlineData("198.19.255.255", AddressScope.Reserved)]
    [InlineData("240.0.0.1", AddressScope.Reserved)]
    [InlineData("255.255.255.255", AddressScope.Reserved)]
    [InlineData("fec0::1", AddressScope.Reserved)]
    [InlineData("100::1", AddressScope.Reserved)]
    [InlineData("::ffff:127.0.0.1", AddressScope.Loopback)]
    [InlineData("::ffff:10.1.1.1", AddressScope.Private)]
    [InlineData("::ffff:8.8.8.8", AddressScope.Public)]
    public void Addresses_are_classified_by_the_special_purpose_registries(string address, AddressScope expected)
    {
        Assert.Equal(expected, AddressScopes.Classify(IPAddress.Parse(address)));
        Assert.Equal(expected == AddressScope.Public, new MxAddress(IPAddress.Parse(address)).IsPublic);
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM.", "example.com")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("BÜCHER.example", "xn--bcher-kva.example")]
    [InlineData("例え.テスト", "xn--r8jz45g.xn--zckzah")]
    [InlineData("faß.de", "xn--fa-hia.de")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("bücher。example", "xn--bcher-kva.example")]
    public void Domains_are_lower_case_A_labels_without_the_trailing_dot(string input, string expected)
    {
        var domain = MxDomain.Parse(input);

        Assert.Null(domain.Error);
        Assert.Equal(expected, domain.Name);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(".", "not a domain")]
    [InlineData("bad_label.bücher.example", "internationalised")]
    [InlineData("-bücher.example", "internationalised")]
    [InlineData("xn--zz.example", "A-label")]
    [InlineData("a..example", "not a domain")]
    [InlineData("192.0.2.1", "[192.0.2.1]")]
    [InlineData("[999.0.2.1]", "address literal")]
    [InlineData("[IPv6:fe80::1%eth0]", "address literal")]
    public void Invalid_domains_say_what_is_wrong(string input, string expectedInMessage)
    {
        var domain = MxDomain.Parse(input);

        Assert.Null(domain.Name);
        Assert.Contains(expectedInMessage, domain.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_domain_longer_than_253_characters_is_invalid()
    {
        var label = new string('a', 63);
        var domain = MxDomain.Parse($"{label}.{label}.{label}.{label}.com");

        Assert.NotNull(domain.Error);
    }

    [Fact]
    public void Options_have_the_documented_defaults_and_validate()
    {
        var options = new MxResolverOptions();

        Assert.Empty(options.NameServers);
        Assert.Equal(TimeSpan.FromSeconds(5), options.QueryTimeout);
        Assert.Equal(2, options.Retries);
        Assert.True(options.UseCache);
        Assert.Equal(TimeSpan.FromHours(1), options.MaxCacheTime);
        Assert.Equal(TimeSpan.FromMinutes(5), options.MaxNegativeCacheTime);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TransientFailureCacheTime);
        Assert.Equal(10_000, options.MaxCacheEntries);
        Assert.Equal(10, options.MaxMxHosts);
        Assert.Equal(5, options.MaxAddresses);
        Assert.Equal(AddressFamilyPreference.PreferIPv4, options.AddressFamilyPreference);
        Assert.False(options.AllowIpLiteralMxTargets);
        Assert.Equal(8, options.MaxCnameDepth);
        options.Validate();
    }

    [Theory]
    [InlineData(nameof(MxResolverOptions.QueryTimeout))]
    [InlineData(nameof(MxResolverOptions.Retries))]
    [InlineData(nameof(MxResolverOptions.MaxNegativeCacheTime))]
    [InlineData(nameof(MxResolverOptions.TransientFailureCacheTime))]
    [InlineData(nameof(MxResolverOptions.MaxCacheEntries))]
    [InlineData(nameof(MxResolverOptions.MaxMxHosts))]
    [InlineData(nameof(MxResolverOptions.MaxAddresses))]
    [InlineData(nameof(MxResolverOptions.AddressFamilyPreference))]
    [InlineData(nameof(MxResolverOptions.MaxCnameDepth))]
    [InlineData(nameof(MxResolverOptions.NameServers))]
    public void Validate_names_the_wrong_setting(string property)
    {
        var options = new MxResolverOptions();
        switch (property)
        {
            case nameof(MxResolverOptions.QueryTimeout): options.QueryTimeout = TimeSpan.Zero; break;
            case nameof(MxResolverOptions.Retries): options.Retries = -1; break;
            case nameof(MxResolverOptions.MaxNegativeCacheTime): options.MaxNegativeCacheTime = TimeSpan.FromSeconds(-1); break;
            case nameof(MxResolverOptions.TransientFailureCacheTime): options.TransientFailureCacheTime = TimeSpan.FromMinutes(6); break;
            case nameof(MxResolverOptions.MaxCacheEntries): options.MaxCacheEntries = 0; break;
            case nameof(MxResolverOptions.MaxMxHosts): options.MaxMxHosts = 0; break;
            case nameof(MxResolverOptions.MaxAddresses): options.MaxAddresses = 0; break;
            case nameof(MxResolverOptions.AddressFamilyPreference): options.AddressFamilyPreference = (AddressFamilyPreference)42; break;
            case nameof(MxResolverOptions.MaxCnameDepth): options.MaxCnameDepth = -1; break;
            case nameof(MxResolverOptions.NameServers): options.NameServers = [new IPEndPoint(IPAddress.Loopback, 0)]; break;
        }

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(property, error.ParamName);
        Assert.Throws<ArgumentException>(() => new MxResolver(options));
    }

    [Fact]
    public async Task The_resolver_copies_the_options()
    {
        // Options shared with other code (a reloaded configuration) must not change a resolver already built: the
        // address literal is resolved by the family the resolver was created with, not the one set afterwards.
        var options = new MxResolverOptions { NameServers = [new IPEndPoint(IPAddress.Loopback, 53)], AddressFamilyPreference = AddressFamilyPreference.PreferIPv4 };
        var resolver = new MxResolver(options);

        options.AddressFamilyPreference = AddressFamilyPreference.IPv6Only;
        var resolution = await resolver.ResolveAsync("[127.0.0.1]");

        Assert.True(resolution.IsSuccess, resolution.Message);
        Assert.Equal(IPAddress.Loopback, Assert.Single(Assert.Single(resolution.Targets).Addresses).Address);
    }

    [Fact]
    public void Custom_resolvers_can_build_results()
    {
        var target = new MxTarget("mx.example", 10, [new MxAddress(IPAddress.Parse("192.0.2.1"))]);
        var success = MxResolution.FromTargets("example", [target]);
        var failure = MxResolution.FromFailure("example", MxResolutionStatus.DnsFailure, "resolver down");

        Assert.True(success.IsSuccess);
        Assert.Same(target, Assert.Single(success.Targets));
        Assert.True(failure.IsTransient);
        Assert.Equal(451, failure.FailureReply!.Code);
        Assert.Throws<ArgumentException>(() => MxResolution.FromFailure("example", MxResolutionStatus.Success, "no"));
        Assert.Throws<ArgumentException>(() => new MxTarget("mx.example", 10, Array.Empty<MxAddress>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MxTarget("mx.example", 70000, [new MxAddress(IPAddress.Loopback)]));
    }
}
