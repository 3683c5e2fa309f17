using System.Linq;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using static DirectMail.Tests.Infrastructure.TestAddresses.Delivery;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// <see cref="DirectMailOptions.AddressFamilyPreference"/> through the mailer, against NSD: mx.dualstack.deliver.test has
/// 127.0.26.80 and ::1, with a server on each; which server gets the message is what the option decides. Stops: the
/// option read by the options class and never handed to the mailer's resolver (the resolver's own tests would still pass).
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AddressFamilyTests
{
    [Theory]
    [InlineData(AddressFamilyPreference.PreferIPv4, "127.0.26.80")]
    [InlineData(AddressFamilyPreference.PreferIPv6, "::1")]
    [InlineData(AddressFamilyPreference.IPv4Only, "127.0.26.80")]
    [InlineData(AddressFamilyPreference.IPv6Only, "::1")]
    public async Task The_preference_decides_which_address_of_a_dual_stack_MX_gets_the_message(AddressFamilyPreference preference, string expected)
    {
        var v4 = new SmtpDialogue();
        var v6 = new SmtpDialogue();
        await using var v4Server = ScriptedSmtpServer.Start(v4.RunAsync, EndPoint(DualStack));
        await using var v6Server = ScriptedSmtpServer.Start(v6.RunAsync, new IPEndPoint(IPAddress.IPv6Loopback, Port));
        await using var mailer = NewMailer(o => o.AddressFamilyPreference = preference);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "someone@dualstack.deliver.test"), SmtpContent.FromBytes(Message("family"))).Bounded();

        var recipient = Assert.Single(report.Recipients);
        Assert.True(recipient.Status == DeliveryStatus.Delivered, recipient.ToString());
        Assert.Equal(IPAddress.Parse(expected), recipient.ServerAddress);
        Assert.Equal(expected == "::1" ? (0, 1) : (1, 0), (v4.Messages.Count, v6.Messages.Count));
        Assert.Equal(1, v4Server.Accepted + v6Server.Accepted); // the other address was not even tried
    }

    [Fact]
    public async Task IPv6Only_to_an_MX_with_only_an_IPv4_address_connects_to_nothing()
    {
        var v4 = new SmtpDialogue();
        await using var v4Server = ScriptedSmtpServer.Start(v4.RunAsync, EndPoint(DualStack));
        await using var mailer = NewMailer(o => o.AddressFamilyPreference = AddressFamilyPreference.IPv6Only);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "someone@v4only.deliver.test"), SmtpContent.FromBytes(Message("family"))).Bounded();

        var recipient = Assert.Single(report.Recipients);
        Assert.NotEqual(DeliveryStatus.Delivered, recipient.Status);
        Assert.Equal(0, v4Server.Accepted);
        Assert.Empty(v4.Messages);
    }
}
