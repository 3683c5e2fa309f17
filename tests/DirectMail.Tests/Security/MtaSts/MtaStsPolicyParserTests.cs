using System;
using DirectMail.Security.MtaSts;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>The policy file grammar of RFC 8461 section 3.2, rule by rule.</summary>
public sealed class MtaStsPolicyParserTests
{
    private const string Enforce = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";

    [Fact]
    public void The_RFC_example_parses_with_every_field()
    {
        var policy = MtaStsPolicy.Parse(Enforce, out var error);

        Assert.Null(error);
        Assert.NotNull(policy);
        Assert.Equal(MtaStsMode.Enforce, policy.Mode);
        Assert.Equal(["mail.example.com", "*.example.net", "backupmx.example.com"], policy.Mx);
        Assert.Equal(TimeSpan.FromSeconds(604800), policy.MaxAge);
        Assert.Equal(Enforce, policy.Text);
    }

    [Fact]
    public void Lines_may_end_in_LF_alone_and_the_last_line_needs_no_terminator()
    {
        var policy = MtaStsPolicy.Parse("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400", out _);

        Assert.Equal(MtaStsMode.Testing, policy!.Mode);
    }

    [Fact]
    public void Mode_none_needs_no_mx()
    {
        Assert.Equal(MtaStsMode.None, MtaStsPolicy.Parse("version: STSv1\nmode: none\nmax_age: 86400\n", out _)!.Mode);
    }

    [Fact]
    public void Unknown_keys_are_ignored()
    {
        // Extensions (RFC 8461 section 3.2: unknown fields are ignored), not a reason to lose the policy.
        var policy = MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nfuture_field: something new\nmx: mx.example.com\nmax_age: 86400\n", out var error);

        Assert.Null(error);
        Assert.Equal(["mx.example.com"], policy!.Mx);
    }

    [Fact]
    public void Spaces_around_values_are_trimmed_and_mx_is_lower_cased()
    {
        var policy = MtaStsPolicy.Parse("version:STSv1\nmode:   enforce  \nmx: MX.Example.COM.\nmax_age: 60\n", out _);

        Assert.Equal(["mx.example.com"], policy!.Mx);
    }

    [Theory]
    [InlineData("mode: enforce\nmx: mx.example.com\nmax_age: 60\n", "no version")]
    [InlineData("version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 60\n", "not STSv1")]
    [InlineData("version: stsv1\nmode: enforce\nmx: mx.example.com\nmax_age: 60\n", "not STSv1")]
    [InlineData("version: STSv1\nmx: mx.example.com\nmax_age: 60\n", "no mode")]
    [InlineData("version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 60\n", "mode other than")]
    [InlineData("version: STSv1\nmode: strict\nmx: mx.example.com\nmax_age: 60\n", "mode other than")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\n", "no max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557601\n", "max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -1\n", "max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1e6\n", "max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 12345678901\n", "max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 60\n", "no mx")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx..example.com\nmax_age: 60\n", "mx value")]
    [InlineData("version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 60\n", "mx value")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx_1.example.com\nmax_age: 60\n", "mx value")]
    [InlineData("version: STSv1\nmode: enforce\nmx: -mx.example.com\nmax_age: 60\n", "mx value")]
    [InlineData("version: STSv1\nmode: enforce\nmx mx.example.com\nmax_age: 60\n", "not 'key: value'")]
    [InlineData("version: STSv1\nmode: enforce\n: mx.example.com\nmax_age: 60\n", "not 'key: value'")]
    [InlineData("version: STSv1\nmode: enforce\n9mx: mx.example.com\nmax_age: 60\n", "malformed key")]
    [InlineData("version: STSv1\nmode: enforce\nmx:\nmax_age: 60\n", "malformed value")]
    [InlineData("version: STSv1\nmode: enforce\n\nmx: mx.example.com\nmax_age: 60\n", "is empty")]
    [InlineData("version: STSv1\nversion: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 60\n", "repeats version")]
    [InlineData("version: STSv1\nmode: enforce\nmode: testing\nmx: mx.example.com\nmax_age: 60\n", "repeats mode")]
    [InlineData("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 60\nmax_age: 600\n", "repeats max_age")]
    [InlineData("<html><body>Not found</body></html>", "not 'key: value'")]
    public void Malformed_policies_are_refused(string text, string reason)
    {
        // Stops: a policy an attacker (or a broken server) garbled being half-applied: it is refused whole, and the
        // domain is then treated as having no new policy (a cached one keeps serving).
        var policy = MtaStsPolicy.Parse(text, out var error);

        Assert.Null(policy);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_largest_max_age_is_one_year()
    {
        Assert.Equal(TimeSpan.FromSeconds(31557600), MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557600\n", out _)!.MaxAge);
    }

    [Fact]
    public void A_control_character_in_a_value_is_refused()
    {
        // Stops: NUL or escape bytes smuggled into a pattern (log injection, a name that compares differently).
        Assert.Null(MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: mx.example.com\u0000\nmax_age: 60\n", out _));
    }
}
