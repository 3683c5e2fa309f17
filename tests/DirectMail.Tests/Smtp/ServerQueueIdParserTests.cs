using DirectMail.Smtp;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// The receiving server's queue id read from the final reply in each server's own words (the replies as those
/// servers send them), and nothing taken from a reply that is not a success or names no id in a known form: a wrong
/// id would send an operator after another message, and a reply is remote input that goes into logs.
/// </summary>
public sealed class ServerQueueIdParserTests
{
    [Theory]
    [InlineData("2.0.0 Ok: queued as 4Y2bQx0Lz9z9", "4Y2bQx0Lz9z9")]                                     // Postfix
    [InlineData("OK id=1tAbCd-000Xyz-2Q", "1tAbCd-000Xyz-2Q")]                                            // Exim
    [InlineData("2.6.0 <a1@app.example> [InternalId=15324519785627, Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com] 10421 bytes in 0.123, 82.7 KB/sec Queued mail for delivery", "15324519785627")] // Microsoft 365
    [InlineData("2.0.0 OK  1732617600 a1si12345abc.42 - gsmtp", "a1si12345abc.42")]                       // Gmail
    [InlineData("2.0.0 4B1H2Kx0012345 Message accepted for delivery", "4B1H2Kx0012345")]                 // Sendmail
    [InlineData("ok 1732617600 qp 12345", "12345")]                                                        // qmail
    [InlineData("Message Queued (B5F3A1C2-7D4E-4F0A-9C1B-2E3D4F5A6B7C.1)", "B5F3A1C2-7D4E-4F0A-9C1B-2E3D4F5A6B7C.1")] // Haraka
    public void The_id_is_read_in_each_servers_form(string line, string id)
        => Assert.Equal(id, ServerQueueIdParser.From(new SmtpReply(250, [line])));

    [Fact]
    public void The_id_may_be_on_any_line_of_a_multiline_reply()
        => Assert.Equal("4Y2bQx0Lz9z9", ServerQueueIdParser.From(new SmtpReply(250, ["2.0.0 Thanks", "2.0.0 Ok: queued as 4Y2bQx0Lz9z9"])));

    [Theory]
    [InlineData(250, "2.0.0 Ok")]                                   // no id named
    [InlineData(250, "2.0.0 Ok: queued as ")]                       // the marker without an id
    [InlineData(451, "4.3.0 queued as 4Y2bQx0Lz9z9 then lost")]     // not a success: nothing was queued
    [InlineData(250, "2.0.0 Ok: queued as \u00e9t\u00e9")]          // not printable ASCII: refused, not echoed into logs
    public void Nothing_is_guessed(int code, string line)
        => Assert.Null(ServerQueueIdParser.From(new SmtpReply(code, [line])));

    [Fact]
    public void An_overlong_id_is_refused()
        => Assert.Null(ServerQueueIdParser.From(new SmtpReply(250, ["2.0.0 Ok: queued as " + new string('A', 129)])));

    [Fact]
    public void No_reply_no_id() => Assert.Null(ServerQueueIdParser.From(null));
}
