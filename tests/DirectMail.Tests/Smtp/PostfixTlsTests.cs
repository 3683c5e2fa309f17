using System;
using System.Security.Authentication;
using System.Linq;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure.Postfix;
using static DirectMail.Tests.Infrastructure.Postfix.PostfixTestMessages;

namespace DirectMail.Tests.Smtp;

/// <summary>STARTTLS of <see cref="SmtpSession"/> against a real Postfix with a self-signed certificate.</summary>
[Collection(PostfixCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PostfixTlsTests
{
    private readonly PostfixFixture _postfix;

    public PostfixTlsTests(PostfixFixture postfix) => _postfix = postfix;

    [Fact]
    public async Task OpportunisticModeUpgradesToTlsAndDeliversOverIt()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("opportunistic");
        var content = Message(recipient, "Opportunistic TLS", "Encrypted, certificate not checked.\r\n");
        await using var session = await ConnectAsync(_postfix, Options(SmtpTlsMode.Opportunistic), transcript);

        Assert.True(session.IsEncrypted);
        Assert.True(session.TlsProtocol is SslProtocols.Tls12 or SslProtocols.Tls13, $"{session.TlsProtocol}");
        Assert.Equal(2, transcript.ClientLines.Count(l => l.StartsWith("EHLO ", StringComparison.Ordinal)));
        Assert.True(session.Capabilities.Supports(SmtpExtensions.Pipelining | SmtpExtensions.Chunking | SmtpExtensions.EightBitMime));
        Assert.False(session.Capabilities.Supports(SmtpExtensions.StartTls));

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Contains("with ESMTPS id", stored.Received, StringComparison.Ordinal);
        Assert.Contains("(using TLSv1.", stored.Received, StringComparison.Ordinal);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task RequiredModeWithoutCertificateValidationDeliversOverTls()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("required");
        var content = Message(recipient, "Required TLS", "Encrypted, self-signed certificate accepted by choice.\r\n");
        var options = Options(SmtpTlsMode.Required);
        options.ValidateCertificate = false;
        await using var session = await ConnectAsync(_postfix, options, transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(session.IsEncrypted);
        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Contains("with ESMTPS id", stored.Received, StringComparison.Ordinal);
        Assert.Equal(content, stored.Content);
    }

    [Fact]
    public async Task RequiredModeRefusesTheSelfSignedCertificate()
    {
        var transcript = new Transcript();
        await using var session = new SmtpSession(Options(SmtpTlsMode.Required), transcript);

        var connected = await session.ConnectAsync(_postfix.EndPoint, PostfixFixture.HostName);

        Assert.False(connected.IsSuccess);
        Assert.Equal(SmtpFailureKind.TlsHandshakeFailed, connected.Failure!.Kind);
        Assert.Equal(SmtpPhase.StartTls, connected.Failure.Phase);
        Assert.True(connected.Failure.IsTransient);
        Assert.IsAssignableFrom<AuthenticationException>(connected.Failure.Exception);
        Assert.False(session.IsUsable);
        Assert.False(session.IsEncrypted);
    }

    [Fact]
    public async Task RequiredModeAcceptsAPinnedCertificate()
    {
        var transcript = new Transcript();
        var recipient = PostfixFixture.Recipient("pinned");
        var content = Message(recipient, "Pinned certificate", "Encrypted to the certificate we expected.\r\n");
        var options = Options(SmtpTlsMode.Required);
        var expected = _postfix.Certificate.GetCertHashString();
        options.CertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == expected;
        await using var session = await ConnectAsync(_postfix, options, transcript);

        var result = await session.SendAsync(new SmtpEnvelope(Sender, recipient), SmtpContent.FromBytes(content));

        Assert.True(session.IsEncrypted);
        Assert.True(result.IsDelivered, $"{result}\n{transcript}");
        var stored = await _postfix.WaitForSingleDeliveryAsync(result);
        Assert.Equal(content, stored.Content);
    }
}
