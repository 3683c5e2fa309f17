using System;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Routing;
using DirectMail.Smtp;
using DirectMail.Tests.Dkim;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Routing;

/// <summary>
/// DKIM signing stays local when mail goes through a relay: the message the real aiosmtpd relay stored (127.0.31.90)
/// carries the mailer's signature, and dkimpy verifies it against the key in the DKIM tests' NSD.
/// </summary>
[Collection(DkimCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RelayDkimTests(DkimDnsFixture dkim)
{
    [Fact]
    public async Task The_message_stored_at_the_relay_carries_the_mailer_s_DKIM_signature_and_it_verifies()
    {
        using var server = new OAuthRelayServer(IPAddress.Parse("127.0.31.90"), ["token"]);
        var pinned = TestCertificates.SelfSigned.GetCertHashString();
        var options = LoopbackMailerOptions.Create(25, o =>
        {
            o.Timeouts.Command = TimeSpan.FromSeconds(30);
            o.Dkim.Add(dkim.Options("s2048"));
            o.Relays["oauth"] = new SmtpRelayOptions
            {
                Hosts = { server.Host },
                UserName = OAuthRelayServer.User,
                TokenProvider = (_, _, _) => ValueTask.FromResult("token"),
                CertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
            };
            o.Routes.Default = "oauth";
        });
        await using var mailer = new DirectMailer(options, new TableResolver());
        var message = "From: Sender <sender@dkim.test>\r\nTo: someone@far.test\r\nSubject: signed before the relay\r\nDate: Sat, 01 Mar 2025 12:00:00 +0000\r\nMessage-ID: <relay-dkim@dkim.test>\r\n\r\nSigned here, carried there.\r\n"u8.ToArray();

        var report = await mailer.SendAsync(new SmtpEnvelope("sender@dkim.test", "someone@far.test"), SmtpContent.FromBytes(message));

        Assert.True(report.IsFullyDelivered, report.Recipients[0].ToString());
        Assert.Equal(DeliveryRoute.Relay, report.Recipients[0].Route);
        var stored = Assert.Single(server.Messages()).Content;
        Assert.StartsWith("DKIM-Signature: ", Encoding.ASCII.GetString(stored), StringComparison.Ordinal);
        Assert.Equal(message, stored[^message.Length..]); // the rest exactly as given
        var verified = await DkimVerifiers.DkimpyAsync(stored);
        Assert.True(verified.Passed, verified.Output);
        Assert.Contains("pass a=rsa-sha256 d=dkim.test s=s2048", verified.Output, StringComparison.Ordinal);
    }
}
