using System.Linq;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using static DirectMail.Tests.Infrastructure.TestAddresses.Delivery;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// DSN parameters through <c>SendAsync</c>: the send is split by domain and into transactions, and each recipient keeps
/// its own NOTIFY and ORCPT (and the message its RET and ENVID) on the way to its own server.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeliveryDsnTests
{
    private const string DsnEhlo = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8";

    [Fact]
    public async Task Each_domain_s_server_gets_its_own_recipients_parameters_and_the_message_s_RET_and_ENVID()
    {
        // Stops: parameters shifted onto the wrong recipient when the send is cut by domain (a NOTIFY=NEVER landing
        // on the recipient who asked for SUCCESS, an ORCPT naming someone else).
        var alpha = new SmtpDialogue { EhloReply = DsnEhlo };
        var beta = new SmtpDialogue { EhloReply = DsnEhlo };
        await using var alphaServer = ScriptedSmtpServer.Start(alpha.RunAsync, EndPoint(Alpha));
        await using var betaServer = ScriptedSmtpServer.Start(beta.RunAsync, EndPoint(Beta));
        await using var mailer = NewMailer();
        var envelope = new SmtpEnvelope(Sender, new SmtpRecipient[]
        {
            new("one@alpha.deliver.test", DsnNotify.Success, "first@example.org"),
            new("two@beta.deliver.test", DsnNotify.Never),
            "three@alpha.deliver.test",
            new("four@beta.deliver.test", DsnNotify.Failure | DsnNotify.Delay, "fourth@example.org"),
        })
        {
            DsnReturn = DsnReturn.Full,
            DsnEnvelopeId = "send-42",
        };

        var report = await mailer.SendAsync(envelope, SmtpContent.FromBytes(Message("dsn")));

        Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
        Assert.Equal(
            [
                "RCPT TO:<one@alpha.deliver.test> NOTIFY=SUCCESS ORCPT=rfc822;first@example.org",
                "RCPT TO:<three@alpha.deliver.test>",
            ],
            alpha.Commands.Where(c => c.StartsWith("RCPT", System.StringComparison.Ordinal)));
        Assert.Equal(
            [
                "RCPT TO:<two@beta.deliver.test> NOTIFY=NEVER",
                "RCPT TO:<four@beta.deliver.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;fourth@example.org",
            ],
            beta.Commands.Where(c => c.StartsWith("RCPT", System.StringComparison.Ordinal)));
        Assert.All(
            alpha.Commands.Concat(beta.Commands).Where(c => c.StartsWith("MAIL", System.StringComparison.Ordinal)),
            c => Assert.EndsWith(" RET=FULL ENVID=send-42", c, System.StringComparison.Ordinal));
        Assert.Single(alpha.Messages);
        Assert.Single(beta.Messages);
    }
}
