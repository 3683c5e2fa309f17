using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Tests.Infrastructure;
using DirectMail.Delivery;
using DirectMail.Security;
using DirectMail.Smtp;
using DirectMail.Tests.Delivery;
using static DirectMail.Tests.Delivery.DeliveryTestKit;
using ResultSink = DirectMail.Tests.Security.MtaSts.MtaStsDeliveryTests.ResultSink;

namespace DirectMail.Tests.Security.MtaSts;

/// <summary>
/// The MTA-STS policy fetch's failures end to end (RFC 8461 sections 3.3 and 5.1) with
/// <see cref="DirectMailOptions.MtaStsFetchTimeout"/> at 1 second: a policy host that accepts and never answers, one that
/// refuses the connection, a refresh that times out under a cached enforce policy; MX certificates out of their validity
/// period under enforce; and a policy of mode none. The zone's records are in DeliveryDnsFixture.DeliverTest (sts-hang
/// and below); the addresses (MX hosts, the silent policy host, the refusing one) are TestAddresses.MtaSts'. The outcome is asserted at the servers (what they stored, what connected), not by wall-clock time.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MtaStsFetchTests(MtaStsFixture fixture) : IClassFixture<MtaStsFixture>
{
    /// <summary>The fetch timeout of the tests whose fetch must fail by timing out.</summary>
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The fetch timeout of the tests whose fetch must succeed: a first fetch includes Kestrel's first request, which took
    /// over 5 seconds with the whole suite running (the host's certificate is made beforehand, see <see cref="ServePolicy"/>).
    /// </summary>
    private static readonly TimeSpan SafeTimeout = TimeSpan.FromSeconds(10);

    private static IPEndPoint Mx(IPAddress address) => new(address, TestAddresses.MtaSts.Port);

    private static string Enforce(string mx, int maxAge = 86400) => $"version: STSv1\r\nmode: enforce\r\nmx: {mx}\r\nmax_age: {maxAge}\r\n";

    /// <summary>Serves <paramref name="policy"/> for <paramref name="domain"/> with the host's certificate made now, not during the first fetch.</summary>
    private void ServePolicy(string domain, string policy)
    {
        fixture.Https.ServePolicy(domain, policy);
        fixture.Https.Present(domain, fixture.Ca.Issue("mta-sts." + domain));
    }

    private DirectMailer Mailer(ResultSink sink, TimeSpan fetchTimeout, TimeProvider? time = null)
    {
        var mailer = new DirectMailer(
            Options(o =>
            {
                o.TrustAnchorFile = fixture.Ca.PemFile;
                o.MtaStsFetchTimeout = fetchTimeout;
            }),
            timeProvider: time);
        mailer.Delivery.TlsResults = sink;
        return mailer;
    }

    [Fact]
    public async Task A_policy_host_that_accepts_and_never_answers_costs_the_fetch_timeout_and_the_mail_goes_as_without_MTA_STS()
    {
        // Stops: a policy host (or a man in the middle) that takes the connection and says nothing holding the domain's
        // mail for the 15-second default or for ever, instead of the configured timeout; and a timed-out fetch read as a
        // policy (RFC 8461 section 5: with no cached policy, a failed fetch means no policy applies).
        const string domain = "sts-hang.deliver.test";
        using var silent = SilentListener.Start(TestAddresses.MtaSts.SilentPolicyHost);
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Hang), fixture.Ca.Issue("not-the-mx.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink, ShortTimeout);
        var content = Message("silent policy host");

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(content)).Bounded();

        Assert.True(silent.Accepted >= 1, "the policy host was never tried");
        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Equal(TlsPostureKind.Unauthenticated, r.Tls!.Kind); // no policy: the certificate for another name is not checked
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
        var failure = Assert.Single(sink.Results, x => x.Failure is not null);
        Assert.Equal((TlsPolicyType.Sts, TlsFailureType.StsPolicyFetchError), (failure.PolicyType, failure.Failure)); // reported under the record's policy type
        Assert.Equal("Fetching https://mta-sts.sts-hang.deliver.test/.well-known/mta-sts.txt took longer than 00:00:01.", failure.Detail);
    }

    [Fact]
    public async Task A_policy_host_that_refuses_the_connection_gives_no_policy_and_is_reported()
    {
        // Stops: a refused policy connection (nothing listens on 127.0.43.2:443) failing the delivery or being read as a
        // policy; the failure must still be reported as sts-policy-fetch-error naming the URL.
        const string domain = "sts-refused.deliver.test";
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.Refused), fixture.Ca.Issue("mx.sts-refused.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink, ShortTimeout);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("refused policy host"))).Bounded();

        var r = Assert.Single(report.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, r.Status);
        Assert.Single(mx.Dialogue.Messages);
        var failure = Assert.Single(sink.Results, x => x.Failure is not null);
        Assert.Equal(TlsFailureType.StsPolicyFetchError, failure.Failure);
        Assert.StartsWith("Fetching https://mta-sts.sts-refused.deliver.test/.well-known/mta-sts.txt failed: ", failure.Detail, StringComparison.Ordinal);
        Assert.Contains("refused", failure.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_refresh_that_times_out_leaves_the_cached_enforce_policy_applied()
    {
        // Stops: an attacker who, once the policy is cached, makes the policy host hang (not fail: hang) and lists its own
        // MX first: the cached policy must still apply (RFC 8461 section 5.1), so the MX outside it gets no connection.
        const string domain = "sts-slowcached.deliver.test";
        ServePolicy(domain, Enforce("mx.sts-slowcached.deliver.test", maxAge: 3600));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sink = new ResultSink();
        await using var evil = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.SlowCachedEvil), fixture.Ca.Issue("evil.sts-slowcached.deliver.test"));
        await using var good = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.SlowCached), fixture.Ca.Issue("mx.sts-slowcached.deliver.test"));
        await using var mailer = Mailer(sink, SafeTimeout, clock); // the first fetch must succeed; the second times out (the detail names the option's 10 s)

        var first = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("slow 1")));
        Assert.Equal((DeliveryStatus.Delivered, TlsPostureKind.MtaSts), (first.Recipients[0].Status, first.Recipients[0].Tls!.Kind));

        var requestsBefore = fixture.Https.Requests(domain);
        fixture.Https.Handle(domain, context => Task.Delay(Timeout.Infinite, context.RequestAborted)); // answers nothing
        clock.Advance(TimeSpan.FromMinutes(31)); // past half of max_age: fetched again, and that times out

        var second = await mailer.SendAsync(new SmtpEnvelope(Sender, "two@" + domain), SmtpContent.FromBytes(Message("slow 2"))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(requestsBefore + 1, fixture.Https.Requests(domain)); // the refresh was tried
        var r = Assert.Single(second.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, "mx.sts-slowcached.deliver.test", TlsPostureKind.MtaSts), (r.Status, r.MxHost, r.Tls!.Kind));
        Assert.Equal(0, evil.Accepted); // in neither send
        Assert.Equal(2, good.Dialogue.Messages.Count);
        Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.StsPolicyFetchError && x.Detail == "Fetching https://mta-sts.sts-slowcached.deliver.test/.well-known/mta-sts.txt took longer than 00:00:10.");
    }

    [Theory]
    [InlineData("sts-expired", -36, -1)] // the tests' CA is valid from 2 days ago: the leaf cannot start before
    [InlineData("sts-notyet", 24, 720)]
    public async Task Enforce_with_an_MX_certificate_outside_its_validity_period_defers_and_sends_nothing(string label, int fromHours, int toHours)
    {
        var address = label == "sts-expired" ? TestAddresses.MtaSts.Expired : TestAddresses.MtaSts.NotYet;
        // Stops: an expired (or not yet valid) certificate accepted under enforce: a key that may have leaked after its
        // certificate's end, or a certificate issued for later, must not carry the mail (RFC 8461 section 4.2).
        var domain = label + ".deliver.test";
        var host = "mx." + domain;
        ServePolicy(domain, Enforce(host));
        var now = DateTimeOffset.UtcNow;
        await using var mx = StartTlsSmtpServer.Start(Mx(address), fixture.Ca.Issue(host, notAfter: now.AddHours(toHours), notBefore: now.AddHours(fromHours)));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink, SafeTimeout);

        var report = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(Message("out of date")));

        var r = Assert.Single(report.Recipients);
        Assert.True(r.Status == DeliveryStatus.Deferred, $"{r} tls {r.Tls?.Kind} failure {r.TlsFailure} results {string.Join(" | ", sink.Results.Select(x => $"{x.PolicyType} {x.MxHost} {x.Failure} {x.Detail}"))}");
        Assert.Equal(TlsFailureType.CertificateExpired, r.TlsFailure);
        Assert.Null(r.Tls);
        Assert.Empty(mx.Dialogue.Messages);
        Assert.DoesNotContain(mx.Dialogue.Commands, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(1, mx.Accepted); // no second, plaintext, connection
        Assert.Null(r.Reply); // no server reply decided it: the client refused the certificate
        Assert.Equal($"The TLS handshake with {host} failed: its certificate was refused (certificate-expired: it has expired or is not yet valid); nothing was sent.", r.Detail);
        Assert.Contains(sink.Results, x => x.Failure == TlsFailureType.CertificateExpired && x.MxHost == host);
    }

    [Fact]
    public async Task Mode_none_delivers_as_without_a_policy_and_is_cached_like_any_policy()
    {
        // Stops: mode none (how a domain withdraws its policy, RFC 8461 section 10.2) applied as enforce or testing (an MX
        // outside its mx list refused, a certificate checked), or refetched on every delivery.
        const string domain = "sts-none.deliver.test";
        ServePolicy(domain, "version: STSv1\r\nmode: none\r\nmx: mx.sts-none.deliver.test\r\nmax_age: 86400\r\n");
        using var untrusted = new TestCertificateAuthority("Not trusted");
        await using var mx = StartTlsSmtpServer.Start(Mx(TestAddresses.MtaSts.None), untrusted.Issue("attacker.deliver.test"));
        var sink = new ResultSink();
        await using var mailer = Mailer(sink, SafeTimeout);
        var content = Message("mode none");

        var first = await mailer.SendAsync(new SmtpEnvelope(Sender, "one@" + domain), SmtpContent.FromBytes(content));

        var r = Assert.Single(first.Recipients);
        Assert.Equal((DeliveryStatus.Delivered, "other.sts-none.deliver.test", TlsPostureKind.Unauthenticated), (r.Status, r.MxHost, r.Tls!.Kind));
        Assert.Null(r.TlsFailure);
        Assert.Equal(content, Assert.Single(mx.Dialogue.Messages));
        Assert.DoesNotContain(sink.Results, x => x.Failure is not null);
        Assert.Equal(1, fixture.Https.Requests(domain));

        // The same TXT id: the cached mode none stands, even though the host would now serve enforce (not fetched again).
        fixture.Https.ServePolicy(domain, Enforce("mx.sts-none.deliver.test"));
        var second = await mailer.SendAsync(new SmtpEnvelope(Sender, "two@" + domain), SmtpContent.FromBytes(Message("mode none again")));

        Assert.Equal(DeliveryStatus.Delivered, second.Recipients[0].Status);
        Assert.Equal(2, mx.Dialogue.Messages.Count);
        Assert.Equal(1, fixture.Https.Requests(domain));
    }

    /// <summary>A TCP listener that accepts every connection and never sends or reads a byte: a policy host that hangs.</summary>
    private sealed class SilentListener : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly ConcurrentQueue<Socket> _held = new();
        private int _accepted;

        private SilentListener(IPEndPoint endPoint)
        {
            _listener = new TcpListener(endPoint);
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Accepted => Volatile.Read(ref _accepted);

        public static SilentListener Start(IPEndPoint endPoint) => new(endPoint);

        public void Dispose()
        {
            _listener.Stop();
            while (_held.TryDequeue(out var socket))
            {
                socket.Dispose();
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync();
                    _held.Enqueue(socket);
                    Interlocked.Increment(ref _accepted);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // stopped
            }
        }
    }
}
