using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Infrastructure.Postfix;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;

namespace DirectMail.Tests.Smtp;

/// <summary>
/// DSN parameters as a real server understands them: Postfix offers DSN, takes RET, ENVID, NOTIFY and ORCPT, and
/// its own success notification (sent back to the envelope sender, here a Postfix mailbox) names them.
/// </summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixDsnTests
{
    private readonly PostfixFixture _postfix;

    public PostfixDsnTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task Postfix_s_success_notice_carries_the_envelope_id_and_original_recipient_DirectMail_sent()
    {
        var transcript = new Transcript();
        var sender = PostfixFixture.Recipient("dsn-sender");
        var recipient = PostfixFixture.Recipient("dsn-rcpt");
        var envelopeId = "dm-" + Guid.NewGuid().ToString("N")[..12] + "+1";
        var content = Message(recipient, "DSN parameters", "Notify me.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(), transcript);
        Assert.True(session.Capabilities.Supports(SmtpExtensions.Dsn), transcript.ToString());
        var envelope = new SmtpEnvelope(sender, new SmtpRecipient[] { new(recipient, DsnNotify.Success | DsnNotify.Failure, "list+owner@example.org") })
        {
            DsnReturn = DsnReturn.Headers,
            DsnEnvelopeId = envelopeId,
        };

        var result = await session.SendAsync(envelope, SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(content, stored.Content);

        // The notice is a message of its own, from the null sender to dsn-sender: found by the envelope id it carries.
        var notice = await WaitForNoticeAsync(envelopeId);
        Assert.Contains("report-type=delivery-status", notice, StringComparison.Ordinal);
        // Postfix decoded the xtext DirectMail sent ("+2B" for the plus sign) back to the values given.
        Assert.Contains("\nOriginal-Envelope-Id: " + envelopeId + "\n", notice, StringComparison.Ordinal);
        Assert.Contains("Final-Recipient: rfc822; " + recipient, notice, StringComparison.Ordinal);
        Assert.Contains("\nOriginal-Recipient: rfc822;list+owner@example.org\n", notice, StringComparison.Ordinal);
        Assert.Contains("Action: delivered", notice, StringComparison.Ordinal);
        Assert.Contains("Status: 2.0.0", notice, StringComparison.Ordinal);

        // RET=HDRS: the original's header is returned, not its body.
        Assert.Contains("text/rfc822-headers", notice, StringComparison.Ordinal);
        Assert.DoesNotContain("Notify me.", notice, StringComparison.Ordinal);
    }

    private async Task<string> WaitForNoticeAsync(string envelopeId)
    {
        var needle = "Original-Envelope-Id: " + envelopeId;
        return await TestTimeouts.FindEventuallyAsync(
            () =>
            {
                foreach (var message in _postfix.ReadInbox())
                {
                    var text = Encoding.UTF8.GetString(message.Raw);
                    if (text.Contains(needle, StringComparison.Ordinal))
                    {
                        return text;
                    }
                }

                return null;
            },
            $"a delivery status notification for {envelopeId} in the inbox",
            () => "Log:\n" + _postfix.ReadLog());
    }
}
