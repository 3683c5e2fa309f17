using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// The DSN parameters of RFC 3461 on the envelope and on the wire: RET and ENVID on MAIL FROM, NOTIFY and ORCPT on
/// RCPT TO, their encodings (xtext, RFC 6533's utf-8 forms), their limits, and that a server without DSN gets none.
/// </summary>
public sealed class DsnParameterTests
{
    private const string Message = "From: a@client.test\r\nTo: b@mx.test\r\nSubject: dsn\r\n\r\nHello.\r\n";
    private const string DsnEhlo = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8";

    private static SmtpContent Content() => SmtpContent.FromBytes(Encoding.ASCII.GetBytes(Message));

    private static async Task<SmtpSession> ConnectAsync(ScriptedSmtpServer server)
    {
        var session = new SmtpSession(SmtpSessionConnectTests.Options());
        var result = await session.ConnectAsync(server.EndPoint, "mx.test");
        Assert.True(result.IsSuccess, result.ToString());
        return session;
    }

    [Theory]
    [InlineData("plain-id.1", "plain-id.1")]
    [InlineData("a+b=c d", "a+2Bb+3Dc+20d")]
    [InlineData("~!", "~!")]
    public void Xtext_keeps_printable_ASCII_but_plus_and_equals_and_hex_encodes_the_rest(string value, string expected)
        => Assert.Equal(expected, DsnParameters.Xtext(value));

    [Fact]
    public void An_envelope_id_is_printable_ASCII_of_at_most_100_characters_as_sent()
    {
        // Stops: an ENVID that a server refuses with 501 after MAIL FROM (or that smuggles a CRLF into the command).
        Assert.Equal(new string('x', 100), new SmtpEnvelope("a@client.test", "b@mx.test") { DsnEnvelopeId = new string('x', 100) }.DsnEnvelopeId);
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@client.test", "b@mx.test") { DsnEnvelopeId = new string('x', 101) });

        // 34 plus signs are 102 characters once xtext-encoded.
        var e = Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@client.test", "b@mx.test") { DsnEnvelopeId = new string('+', 34) });
        Assert.Contains("102 in xtext", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@client.test", "b@mx.test") { DsnEnvelopeId = "id\r\nRCPT TO:<victim@example.org>" });
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@client.test", "b@mx.test") { DsnEnvelopeId = "idé" });
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@client.test", "b@mx.test") { DsnEnvelopeId = string.Empty });
    }

    [Fact]
    public void NOTIFY_NEVER_stands_alone_and_the_others_are_sent_in_a_fixed_order()
    {
        Assert.Throws<ArgumentException>(() => new SmtpEnvelope("a@client.test", new SmtpRecipient[] { new("b@mx.test", DsnNotify.Never | DsnNotify.Failure) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmtpEnvelope("a@client.test", new SmtpRecipient[] { new("b@mx.test", (DsnNotify)16) }));
        Assert.Equal(" NOTIFY=SUCCESS,FAILURE,DELAY", DsnParameters.Notify(DsnNotify.Delay | DsnNotify.Success | DsnNotify.Failure, "n"));
        Assert.Equal(" NOTIFY=FAILURE,DELAY", DsnParameters.Notify(DsnNotify.Delay | DsnNotify.Failure, "n"));
        Assert.Equal(" NOTIFY=NEVER", DsnParameters.Notify(DsnNotify.Never, "n"));
        Assert.Null(DsnParameters.Notify(DsnNotify.Default, "n"));
    }

    [Fact]
    public void ORCPT_is_rfc822_xtext_for_ASCII_and_RFC_6533_utf_8_forms_otherwise()
    {
        Assert.Equal((" ORCPT=rfc822;list+2Bowner@example.org", null), DsnParameters.OriginalRecipient("list+owner@example.org", "o"));
        var (ascii, utf8) = DsnParameters.OriginalRecipient("jöe+x@exämple.org", "o");
        Assert.Equal(@" ORCPT=utf-8;j\x{F6}e\x{2B}x@ex\x{E4}mple.org", ascii);
        Assert.Equal(@" ORCPT=utf-8;jöe\x{2B}x@exämple.org", utf8);

        // Stops: a CRLF or a space in ORCPT adding a command or a parameter to the RCPT line.
        Assert.Throws<ArgumentException>(() => DsnParameters.OriginalRecipient("a@b.example\r\nDATA", "o"));
        Assert.Throws<ArgumentException>(() => DsnParameters.OriginalRecipient("a@b.example SIZE=1", "o"));
        Assert.Throws<ArgumentException>(() => DsnParameters.OriginalRecipient("no-at-sign", "o"));
        Assert.Throws<ArgumentException>(() => DsnParameters.OriginalRecipient(new string('a', 490) + "@example.org", "o"));
    }

    [Fact]
    public void The_parameters_read_back_per_recipient_and_survive_the_removal_of_duplicates()
    {
        var envelope = new SmtpEnvelope("a@client.test", new SmtpRecipient[]
        {
            new("b@mx.test", DsnNotify.Failure, "orig-b@example.org"),
            "c@mx.test",
            new("B@MX.TEST.", DsnNotify.Never),
        })
        {
            DsnReturn = DsnReturn.Headers,
            DsnEnvelopeId = "q1",
        };

        Assert.Equal(["b@mx.test", "c@mx.test", "B@MX.TEST."], envelope.Recipients);
        Assert.Equal(DsnNotify.Failure, envelope.GetRecipientNotify(0));
        Assert.Equal("orig-b@example.org", envelope.GetOriginalRecipient(0));
        Assert.Equal(DsnNotify.Default, envelope.GetRecipientNotify(1));
        Assert.Null(envelope.GetOriginalRecipient(1));
        Assert.Equal(DsnNotify.Never, envelope.GetRecipientNotify(2));
        Assert.True(envelope.HasDsnParameters);
        Assert.False(new SmtpEnvelope("a@client.test", "b@mx.test").HasDsnParameters);

        var subset = envelope.Subset([2, 0]);
        Assert.Equal(["B@MX.TEST.", "b@mx.test"], subset.Recipients);
        Assert.Equal(DsnNotify.Never, subset.GetRecipientNotify(0));
        Assert.Equal("orig-b@example.org", subset.GetOriginalRecipient(1));
        Assert.Equal(DsnReturn.Headers, subset.DsnReturn);
        Assert.Equal("q1", subset.DsnEnvelopeId);
        Assert.Equal("mx.test", subset.GetRecipientDomain(0));
    }

    [Fact]
    public async Task A_server_offering_DSN_gets_RET_and_ENVID_on_MAIL_and_NOTIFY_and_ORCPT_on_each_RCPT_that_has_them()
    {
        var dialogue = new SmtpDialogue { EhloReply = DsnEhlo };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var envelope = new SmtpEnvelope("a@client.test", new SmtpRecipient[]
        {
            new("b@mx.test", DsnNotify.Success | DsnNotify.Failure, "list+b@example.org"),
            "c@mx.test",
            new("d@mx.test", DsnNotify.Never),
        })
        {
            DsnReturn = DsnReturn.Headers,
            DsnEnvelopeId = "QQ+1 x",
        };

        var result = await session.SendAsync(envelope, Content());

        Assert.True(result.IsDelivered, result.ToString());
        Assert.Equal(
            [
                "EHLO client.test",
                $"MAIL FROM:<a@client.test> SIZE={Message.Length} RET=HDRS ENVID=QQ+2B1+20x",
                "RCPT TO:<b@mx.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;list+2Bb@example.org",
                "RCPT TO:<c@mx.test>",
                "RCPT TO:<d@mx.test> NOTIFY=NEVER",
                "DATA",
            ],
            dialogue.Commands.Take(6));
        Assert.Equal(Message, Encoding.ASCII.GetString(Assert.Single(dialogue.Messages)));
    }

    [Fact]
    public async Task Under_SMTPUTF8_a_UTF_8_original_recipient_is_sent_in_its_unitext_form()
    {
        var dialogue = new SmtpDialogue { EhloReply = DsnEhlo };
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var envelope = new SmtpEnvelope("a@client.test", new SmtpRecipient[] { new("jöe@mx.test", DsnNotify.Failure, "jöe@exämple.org") });

        var result = await session.SendAsync(envelope, Content());

        Assert.True(result.IsDelivered, result.ToString());
        Assert.Contains("RCPT TO:<jöe@mx.test> NOTIFY=FAILURE ORCPT=utf-8;jöe@exämple.org", dialogue.Commands);
        Assert.Contains($"MAIL FROM:<a@client.test> SIZE={Message.Length} SMTPUTF8", dialogue.Commands);
    }

    [Fact]
    public async Task A_server_without_DSN_gets_no_parameter_and_the_message_still_goes()
    {
        // RFC 3461 section 4: the parameters are only for a server that offers DSN; to others they are dropped.
        var dialogue = new SmtpDialogue();
        Assert.DoesNotContain("DSN", dialogue.EhloReply, StringComparison.Ordinal);
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync);
        await using var session = await ConnectAsync(server);
        var envelope = new SmtpEnvelope("a@client.test", new SmtpRecipient[] { new("b@mx.test", DsnNotify.Success, "orig@example.org") })
        {
            DsnReturn = DsnReturn.Full,
            DsnEnvelopeId = "id1",
        };

        var result = await session.SendAsync(envelope, Content());

        Assert.True(result.IsDelivered, result.ToString());
        Assert.Equal(["EHLO client.test", $"MAIL FROM:<a@client.test> SIZE={Message.Length}", "RCPT TO:<b@mx.test>", "DATA"], dialogue.Commands.Take(4));
    }
}
