using System;
using System.Collections.Concurrent;
using System.IO;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Security.TlsRpt;
using DirectMail.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>
/// Reports posted to an https destination: an in-process Kestrel server on loopback over TLS, its certificate issued
/// by a test CA that the mailer trusts through <see cref="DirectMailOptions.TrustAnchorFile"/>; the host name resolved
/// by the mailer's DNS (NSD).
/// </summary>
[Trait("Category", "Integration")]
public sealed class TlsReportHttpsTests : IClassFixture<TlsRptDnsFixture>, IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("directmail-tlsrpt-https-").FullName;
    private readonly ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> _posts = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private WebApplication? _server;
    private int _status = 200;

    public async Task InitializeAsync()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=DirectMail TLS-RPT test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(_directory, "ca.pem"), ca.ExportCertificatePem());

        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=reports.tlsrpt.test", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("reports.tlsrpt.test");
        leafRequest.CertificateExtensions.Add(san.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), [1, 2, 3, 4]);
        var leaf = X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(leafKey).Export(X509ContentType.Pfx), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(TlsRptDnsFixture.HttpsEndPoint, l => l.UseHttps(leaf)));
        _server = builder.Build();
        _server.MapPost("/v1/{name}", async (HttpContext context, string name) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _posts.Enqueue((context.Request.Path, context.Request.ContentType, body.ToArray()));
            context.Response.StatusCode = _status;
        });
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_report_is_posted_as_application_tlsrpt_gzip_and_decodes_to_the_counts()
    {
        await using var mailer = Mailer(trustTheCa: true);
        using var reporting = new TlsReporting(mailer, TlsReportSchedulerTests.Options(), null, _time);
        TlsReportSchedulerTests.Record(reporting.Aggregator, "https.tlsrpt.test", successes: 4, failures: 2);
        _time.Advance(TimeSpan.FromDays(1));

        await reporting.Scheduler.SendDueAsync(CancellationToken.None);

        var (path, contentType, body) = Assert.Single(_posts);
        Assert.Equal("/v1/tlsrpt", path);
        Assert.Equal("application/tlsrpt+gzip", contentType);
        using var json = JsonDocument.Parse(Gunzip(body));
        var policy = json.RootElement.GetProperty("policies")[0];
        Assert.Equal("https.tlsrpt.test", policy.GetProperty("policy").GetProperty("policy-domain").GetString());
        Assert.Equal(4, policy.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64());
        Assert.Equal(2, policy.GetProperty("summary").GetProperty("total-failure-session-count").GetInt64());
        var failure = policy.GetProperty("failure-details")[0];
        Assert.Equal("starttls-not-supported", failure.GetProperty("result-type").GetString());
        Assert.Equal(2, failure.GetProperty("failed-session-count").GetInt64());
        Assert.Equal(0, reporting.Scheduler.PendingCount);
    }

    [Fact]
    public async Task An_endpoint_whose_certificate_does_not_validate_gets_nothing_and_the_report_waits_for_a_retry()
    {
        // Without the test CA the server's certificate is not trusted: the report is not handed to a server that may be
        // anyone's, and it is kept to be tried again.
        await using var mailer = Mailer(trustTheCa: false);
        using var reporting = new TlsReporting(mailer, TlsReportSchedulerTests.Options(), null, _time);
        TlsReportSchedulerTests.Record(reporting.Aggregator, "https.tlsrpt.test", 1, 0);
        _time.Advance(TimeSpan.FromDays(1));

        await reporting.Scheduler.SendDueAsync(CancellationToken.None);

        Assert.Empty(_posts);
        Assert.Equal(1, reporting.Scheduler.PendingCount);
    }

    [Fact]
    public async Task An_error_status_is_not_taken_for_delivery()
    {
        _status = 503;
        await using var mailer = Mailer(trustTheCa: true);
        using var reporting = new TlsReporting(mailer, TlsReportSchedulerTests.Options(), null, _time);
        TlsReportSchedulerTests.Record(reporting.Aggregator, "https.tlsrpt.test", 1, 0);
        _time.Advance(TimeSpan.FromDays(1));

        await reporting.Scheduler.SendDueAsync(CancellationToken.None);

        Assert.Single(_posts);
        Assert.Equal(1, reporting.Scheduler.PendingCount);
    }

    [Fact]
    public async Task A_private_address_is_not_posted_to_unless_private_targets_are_allowed()
    {
        // The https host is the receiving domain's to choose: it must not turn the sender into a client of its own network.
        await using var mailer = Mailer(trustTheCa: true, allowPrivate: false);
        using var reporting = new TlsReporting(mailer, TlsReportSchedulerTests.Options(), null, _time);
        TlsReportSchedulerTests.Record(reporting.Aggregator, "https.tlsrpt.test", 1, 0);
        _time.Advance(TimeSpan.FromDays(1));

        await reporting.Scheduler.SendDueAsync(CancellationToken.None);

        Assert.Empty(_posts);
    }

    private DirectMailer Mailer(bool trustTheCa, bool allowPrivate = true) => new(LoopbackMailerOptions.Create(25, o =>
    {
        o.NameServers = [TlsRptDnsFixture.EndPoint.ToString()];
        o.AllowPrivateTargets = allowPrivate;
        o.TrustAnchorFile = trustTheCa ? Path.Combine(_directory, "ca.pem") : null;
    }));

    private static byte[] Gunzip(byte[] body)
    {
        using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        return plain.ToArray();
    }
}
