using System;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Security;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Security.MtaSts;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Security.Dane;

/// <summary>
/// DANE end to end (RFC 7672) through <see cref="DirectMailer.SendAsync(SmtpEnvelope, SmtpContent, System.Threading.CancellationToken)"/>:
/// the mailer asks unbound (validating the signed test zones), the MX hosts are SMTP servers on 127.0.55.x:10025
/// offering STARTTLS with the certificates the TLSA records name (or not). Every downgrade is asserted at the receiving
/// server: nothing stored, no MAIL command, no second connection.
/// </summary>
[Collection(DaneDnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DaneDeliveryTests(DaneDnsFixture fixture)
{
    private const string Sender = "sender@client.test.example";

    private static IPEndPoint Mx(IPAddress address) => new(address, DaneDnsFixture.SmtpPort);

    private static DirectMailer Mailer(Action<DirectMailOptions>? configure = null, ILoggerFactory? logs = null)
    {
        var options = LoopbackMailerOptions.Create(DaneDnsFixture.SmtpPort, o =>
        {
            o.TlsMode = SmtpTlsMode.Opportunistic;
            o.NameServers = [DaneDnsFixture.ValidatingEndPoint.ToString()];
            o.UseMtaSts = false; // no _mta-sts records here: DANE alone
            configure?.Invoke(o);
        });
        return new DirectMailer(options, loggerFactory: logs);
    }

    private static byte[] Message(string text) =>
        Encoding.ASCII.GetBytes($"From: <{Sender}>\r\nSubject: {text}\r\nMessage-ID: <{Guid.NewGuid():N}@client.test.example>\r\n\r\n{text}\r\n");

    [Fact]
    public async Task DANE_EE_matching_delivers_with_posture_DaneEe()
    {
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.EeAddress), DaneDnsFixture.EeCertificate);
        await using var mailer = Mailer();
        var content = Message("dane-ee");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@ee.dane.test"), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.DaneEe, r.Tls!.Kind);
        Assert.Null(r.TlsFailure);
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
    }

    [Fact]
    public async Task DANE_TA_with_the_anchor_in_the_chain_delivers_with_posture_DaneTa()
    {
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.TaAddress), DaneDnsFixture.TaLeaf, [DaneDnsFixture.TaIntermediate, DaneDnsFixture.TaRoot]);
        await using var mailer = Mailer();
        var content = Message("dane-ta");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@ta.dane.test"), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.True(r.Status == DeliveryStatus.Delivered, $"{r} (TLS failure {r.TlsFailure})");
        Assert.Equal(TlsPostureKind.DaneTa, r.Tls!.Kind);
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
    }

    [Fact]
    public async Task A_CNAME_MX_host_is_authenticated_by_the_TLSA_records_of_the_name_it_leads_to()
    {
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.AliasAddress), DaneDnsFixture.EeCertificate);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@cname.dane.test"), SmtpContent.FromBytes(Message("cname")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, TlsPostureKind.DaneEe), (r.Status, r.Tls!.Kind));
        Assert.Single(mx.Dialogue.Messages);
    }

    [Fact]
    public async Task A_certificate_no_TLSA_record_names_is_refused_at_every_MX_and_the_mail_deferred()
    {
        // Stops: a man in the middle with a certificate of his own (the attack DANE exists for), at both MX hosts.
        await using var first = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.WrongAddress), DaneDnsFixture.EeCertificate);
        await using var second = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.Wrong2Address), DaneDnsFixture.EeCertificate);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@mismatch.dane.test"), SmtpContent.FromBytes(Message("mismatch")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.TlsaInvalid, r.TlsFailure);
        foreach (var mx in new[] { first, second })
        {
            Assert.Equal(1, mx.Accepted); // tried once, and no plaintext retry
            Assert.Empty(mx.Dialogue.Messages);
            Assert.DoesNotContain(mx.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task A_mismatching_first_MX_gets_nothing_and_the_next_one_delivers()
    {
        await using var wrong = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.WrongAddress), DaneDnsFixture.EeCertificate);
        await using var backup = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.BackupAddress), DaneDnsFixture.EeCertificate);
        await using var mailer = Mailer();
        var content = Message("backup");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@backup.dane.test"), SmtpContent.FromBytes(content));

        var r = Assert.Single(report.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, "mx-backup.dane.test", TlsPostureKind.DaneEe), (r.Status, r.MxHost, r.Tls!.Kind));
        Assert.Equal(1, wrong.Accepted);
        Assert.Empty(wrong.Dialogue.Messages);
        Assert.Equal(content, Assert.Single(backup.Dialogue.Messages));
    }

    [Fact]
    public async Task A_DANE_host_without_STARTTLS_gets_nothing_in_plaintext()
    {
        // Stops: STARTTLS stripped from the EHLO reply by a man in the middle (RFC 7672 section 2.2: TLS is required).
        await using var mx = StartTlsSmtpServer.StartWithoutTls(Mx(DaneDnsFixture.PlainAddress));
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@nostarttls.dane.test"), SmtpContent.FromBytes(Message("stripped")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.DaneRequired, r.TlsFailure);
        Assert.Empty(mx.Dialogue.Messages);
        Assert.DoesNotContain(mx.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_bogus_TLSA_answer_defers_without_connecting()
    {
        // Stops: a forged or broken TLSA answer read as "no TLSA", which would let the mail go in plaintext.
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.BogusAddress), DaneDnsFixture.EeCertificate);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@bogus.dane.test"), SmtpContent.FromBytes(Message("bogus")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, r.Status);
        Assert.Equal(TlsFailureType.DnssecInvalid, r.TlsFailure);
        Assert.Equal(0, mx.Accepted);
    }

    [Fact]
    public async Task A_TLSA_lookup_that_fails_with_SERVFAIL_defers_without_connecting_and_says_so()
    {
        // Stops: a failed TLSA lookup (RFC 7672 section 2.1.1: SERVFAIL, here a lame delegation, not a bogus signature)
        // read as "no TLSA records", which would send the mail to a DNSSEC-secure host with opportunistic TLS or in
        // plaintext. The host is not tried at all.
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.ServfailAddress), DaneDnsFixture.EeCertificate);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@servfail.dane.test"), SmtpContent.FromBytes(Message("servfail")));

        var r = Assert.Single(report.Recipients);
        Assert.True(r.Status == DeliveryStatus.Deferred, r.ToString());
        Assert.Equal(0, mx.Accepted);

        // The same failure type as a bogus answer (RFC 8460 dnssec-invalid: no valid records from the resolver). unbound
        // sends no Extended DNS Error (RFC 8914) for a lame delegation, so the text says it may be either.
        Assert.Equal(TlsFailureType.DnssecInvalid, r.TlsFailure);
        Assert.True(r.ToString().Contains("the TLSA lookup of _10025._tcp.mx-servfail.dane.test failed: SERVFAIL from 127.0.55.53:10053 (a DNSSEC-bogus answer, or a failed lookup)", StringComparison.Ordinal), r.ToString() + " || " + r.Detail + " || " + r.Reply);
        Assert.Contains("the host is not used, and nothing is sent to it in plaintext (RFC 7672 section 2.2)", r.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TLSA_records_none_usable_require_TLS_without_a_certificate_check()
    {
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.UnusableAddress), DaneDnsFixture.OtherCertificate);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@unusable.dane.test"), SmtpContent.FromBytes(Message("unusable")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, TlsPostureKind.Unauthenticated), (r.Status, r.Tls!.Kind));
        Assert.Single(mx.Dialogue.Messages);
    }

    [Fact]
    public async Task An_insecure_zone_delivers_with_opportunistic_TLS_as_before()
    {
        // Its TLSA record names another certificate, but is not validated: it must not be applied either way.
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.InsecureAddress), DaneDnsFixture.OtherCertificate);
        await using var mailer = Mailer();

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@insecure.dane.test"), SmtpContent.FromBytes(Message("insecure")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, TlsPostureKind.Unauthenticated), (r.Status, r.Tls!.Kind));
        Assert.Single(mx.Dialogue.Messages);
    }

    [Fact]
    public async Task A_resolver_marked_not_validating_turns_DANE_off_and_the_mailer_says_so()
    {
        // The same domain as the DANE-EE test, with a certificate its TLSA record does not name: delivered
        // opportunistically, since without DANE nothing asks for more; and the log says why at start.
        var logger = new ListLogger();
        using var logs = LoggerFactory.Create(b => b.AddProvider(new ListLoggerProvider(logger)));
        await using var mx = StartTlsSmtpServer.Start(Mx(DaneDnsFixture.EeAddress), DaneDnsFixture.OtherCertificate);
        await using var mailer = Mailer(o => o.ResolverValidatesDnssec = false, logs);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@ee.dane.test"), SmtpContent.FromBytes(Message("not validating")));

        var r = Assert.Single(report.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, TlsPostureKind.Unauthenticated), (r.Status, r.Tls!.Kind));
        var off = Assert.Single(logger.Entries, e => e.Id.Id == 8050);
        Assert.Equal(LogLevel.Warning, off.Level);
        Assert.Contains("ResolverValidatesDnssec is false", off.Message);
        Assert.NotNull(fixture.TrustAnchor);
    }
}
