using DirectMail.Security.MtaSts;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>The <c>_mta-sts</c> TXT record (RFC 8461 section 3.1).</summary>
public sealed class MtaStsRecordTests
{
    [Theory]
    [InlineData("v=STSv1; id=20160831085700Z;", "20160831085700Z")]
    [InlineData("v=STSv1;id=abc", "abc")]
    [InlineData("v=STSv1 ; id=abc ; ext=whatever;", "abc")]
    public void The_id_is_read(string record, string id) => Assert.Equal(id, MtaStsRecord.FindId([record], out _));

    [Fact]
    public void Records_of_other_kinds_are_discarded()
    {
        Assert.Equal("x1", MtaStsRecord.FindId(["v=spf1 -all", "v=STSv1; id=x1;", "v=STSv10; id=zz"], out _));
    }

    [Theory]
    [InlineData("v=STSv1;")]
    [InlineData("v=STSv1; id=")]
    [InlineData("v=STSv1; id=has-dash")]
    [InlineData("v=STSv1; id=123456789012345678901234567890123")]
    [InlineData("v=STSv1; id=a; id=b")]
    [InlineData("v=STSv1; garbage")]
    public void Malformed_records_give_no_id(string record)
    {
        // Stops: a malformed record being read as "the policy changed" or "unchanged": the domain has no policy announced.
        Assert.Null(MtaStsRecord.FindId([record], out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Two_STSv1_records_mean_no_policy()
    {
        Assert.Null(MtaStsRecord.FindId(["v=STSv1; id=a", "v=STSv1; id=b"], out var error));
        Assert.Contains("more than one", error);
    }

    [Fact]
    public void No_record_means_no_policy() => Assert.Null(MtaStsRecord.FindId([], out _));
}
