using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Dsn;

namespace DirectMail.Tests.Dsn;

/// <summary>Hostile input stays bounded: the work and memory the parser spends are counted, the results are typed.</summary>
public sealed class BounceParserLimitsTests
{
    private const string Head =
        "From: MAILER-DAEMON@mx.test\r\n" +
        "Subject: Undelivered Mail Returned to Sender\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n" +
        "\r\n";

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_report_of_10000_recipients_gives_the_first_MaxRecipients_and_says_so()
    {
        var text = new StringBuilder(Head + "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n");
        for (var i = 0; i < 10_000; i++)
        {
            text.Append("\r\nFinal-Recipient: rfc822; user").Append(i).Append("@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n");
        }

        text.Append("\r\n--b--\r\n");
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        BounceReport? report = null;

        var allocated = Allocated(() => report = BounceParser.Parse(bytes));

        Assert.Equal(BounceKind.Dsn, report!.Kind);
        Assert.Equal(BounceParser.MaxRecipients, report.Recipients.Count);
        Assert.True(report.RecipientsTruncated);
        Assert.Equal("user999@example.org", report.Recipients[^1].Address);
        Assert.True(allocated < 2 * 1024 * 1024, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_megabyte_long_diagnostic_is_cut_to_its_start()
    {
        var diagnostic = "550 5.1.1 " + new string('x', 1024 * 1024);
        var report = BounceParser.Parse(Encoding.ASCII.GetBytes(
            "Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; " + diagnostic + "\r\n"));

        var read = Assert.Single(report.Recipients).Diagnostic!;
        Assert.Equal(diagnostic[..(16 * 1024 - "smtp; ".Length)], read);
        Assert.Equal(BounceClassification.InvalidRecipient, report.Recipients[0].Classification);
    }

    [Fact]
    public void Endless_nesting_stops_at_MaxDepth()
    {
        var text = new StringBuilder("From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered Mail Returned to Sender\r\n");
        for (var i = 0; i < 5000; i++)
        {
            text.Append("Content-Type: multipart/mixed; boundary=\"n").Append(i).Append("\"\r\n\r\n--n").Append(i).Append("\r\n");
        }

        text.Append("Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; deep@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n");
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        BounceReport? report = null;

        var allocated = Allocated(() => report = BounceParser.Parse(bytes));

        Assert.Equal(BounceKind.NotABounce, report!.Kind); // the report is deeper than is followed: nobody is invented
        Assert.Empty(report.Recipients);
        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_report_nested_within_MaxDepth_is_read()
    {
        var text = new StringBuilder("From: MAILER-DAEMON@mx.test\r\n");
        for (var i = 0; i < BounceParser.MaxDepth; i++)
        {
            text.Append("Content-Type: multipart/mixed; boundary=\"n").Append(i).Append("\"\r\n\r\n--n").Append(i).Append("\r\n");
        }

        text.Append("Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; deep@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n");

        var report = BounceParser.Parse(Encoding.ASCII.GetBytes(text.ToString()));

        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal("deep@example.org", Assert.Single(report.Recipients).Address);
    }

    [Fact]
    public void Ten_thousand_parts_are_looked_at_only_up_to_MaxParts()
    {
        var text = new StringBuilder(Head);
        for (var i = 0; i < 10_000; i++)
        {
            text.Append("--b\r\nContent-Type: text/plain\r\n\r\nnothing ").Append(i).Append("\r\n");
        }

        text.Append("--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; late@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n");
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        BounceReport? report = null;

        var allocated = Allocated(() => report = BounceParser.Parse(bytes));

        Assert.Equal(BounceKind.NotABounce, report!.Kind);
        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_huge_header_without_an_end_is_not_a_bounce()
    {
        var text = new StringBuilder("From: MAILER-DAEMON@mx.test\r\nSubject: Undelivered Mail Returned to Sender\r\n");
        while (text.Length < 4 * 1024 * 1024)
        {
            text.Append("X-Filler: ").Append('a', 900).Append("\r\n\t<b@c.example>: 550 5.1.1 unknown\r\n");
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        BounceReport? report = null;

        var allocated = Allocated(() => report = BounceParser.Parse(bytes));

        Assert.Equal(BounceKind.NotABounce, report!.Kind);
        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated");
    }

    [Theory]
    [InlineData("Content-Type: multipart/report; report-type=delivery-status\r\n\r\n--b\r\nFinal-Recipient: rfc822; a@b.example\r\n")] // no boundary
    [InlineData("Content-Type: multipart/report; boundary=\"b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n")] // unclosed quote, no content
    [InlineData("Content-Type: multipart/report; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!====\r\n")]
    [InlineData("Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822;\r\nAction: failed\r\nStatus: 9.9.9\r\n")]
    [InlineData("Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; <>\r\n")]
    [InlineData("")]
    [InlineData("\r\n\r\n")]
    [InlineData(":\r\n:\r\n\r\n")]
    public void Broken_MIME_reports_nobody(string message)
    {
        var report = BounceParser.Parse(Encoding.ASCII.GetBytes("From: MAILER-DAEMON@mx.test\r\n" + message));

        Assert.Empty(report.Recipients);
        Assert.Equal(BounceKind.NotABounce, report.Kind);
    }

    [Fact]
    public void A_status_that_is_not_one_is_read_from_the_diagnostic_or_left_out()
    {
        var report = BounceParser.Parse(Encoding.ASCII.GetBytes(
            "Content-Type: message/delivery-status\r\n\r\n" +
            "Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 9.9.9\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n" +
            "Final-Recipient: rfc822; c@d.example\r\nAction: bogus\r\nStatus: garbage\r\n"));

        Assert.Equal(BounceKind.Dsn, report.Kind);
        Assert.Equal("5.1.1", report.Recipients[0].Status?.ToString());
        Assert.Null(report.Recipients[1].Status);
        Assert.Equal(DsnAction.Failed, report.Recipients[1].Action);
        Assert.Equal(BounceClassification.Other, report.Recipients[1].Classification);
    }

    [Fact]
    public async Task A_message_larger_than_MaxMessageSize_is_refused_with_a_typed_error()
    {
        await using var stream = new EndlessStream();

        await Assert.ThrowsAsync<BounceParseException>(() => BounceParser.ParseAsync(stream));
        Assert.True(stream.Served <= BounceParser.MaxMessageSize + (128 * 1024), $"{stream.Served} octets read");
    }

    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)'a');
            Served += count;
            return count;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
