using System;
using DirectMail.Smtp;

namespace DirectMail.Tests.Smtp;

public sealed class EnhancedStatusCodeTests
{
    [Theory]
    [InlineData("5.1.1 User unknown", 5, 1, 1, 5)]
    [InlineData("4.7.0 Try later", 4, 7, 0, 5)]
    [InlineData("2.0.0", 2, 0, 0, 5)]
    [InlineData("5.7.26 Unauthenticated", 5, 7, 26, 6)]
    [InlineData("5.123.456 x", 5, 123, 456, 9)]
    public void Parses_class_subject_detail(string text, int c, int s, int d, int length)
    {
        Assert.True(EnhancedStatusCode.TryParse(text, out var code, out var read));
        Assert.Equal(new EnhancedStatusCode(c, s, d), code);
        Assert.Equal(length, read);
    }

    [Theory]
    [InlineData("3.1.1 wrong class")]
    [InlineData("5.1 too short")]
    [InlineData("5.1.1000 too long")]
    [InlineData("5..1 empty")]
    [InlineData("5.1.1x glued")]
    [InlineData("mx.example.com")]
    [InlineData("")]
    public void Rejects_what_is_not_a_status_code(string text)
    {
        Assert.False(EnhancedStatusCode.TryParse(text, out _, out _));
    }

    [Fact]
    public void Formats_as_dotted_triple()
    {
        Assert.Equal("5.7.26", EnhancedStatusCode.Parse("5.7.26").ToString());
        Assert.Throws<FormatException>(() => EnhancedStatusCode.Parse("5.7.26 text"));
    }
}
