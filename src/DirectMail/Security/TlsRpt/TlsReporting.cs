using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Dns;
using DirectMail.Mime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// TLS reporting (RFC 8460) for one <see cref="DirectMailer"/>: from its creation every TLS session the mailer opens
/// (success, and each failure type) is counted per recipient domain and UTC day, and <see cref="RunAsync"/> sends each
/// day's aggregate report to the domains that publish a <c>_smtp._tls</c> record: by mail through the mailer itself
/// (with <c>TLS-Required: No</c>) or by HTTPS POST. With dependency injection, <c>AddTlsReporting</c> creates and runs it.
/// </summary>
/// <remarks>
/// Counting costs the delivery path an interlocked increment per session. Without a shared store (the SQLite or
/// PostgreSQL queue packages' <c>AddSqliteTlsReportStore</c> / <c>AddPostgreSqlTlsReportStore</c>), each instance sends
/// its own reports: run this in one instance only, or share a store so that each domain's report goes once a day.
/// </remarks>
public sealed class TlsReporting : IDisposable
{
    private readonly TlsReportDelivery _delivery;

    /// <summary>Starts counting the TLS sessions of <paramref name="mailer"/>, and prepares the daily reports.</summary>
    /// <param name="mailer">The mailer whose sessions are counted and which sends the mailto reports.</param>
    /// <param name="options">Who reports; checked with <see cref="TlsReportingOptions.Validate"/>.</param>
    /// <param name="loggerFactory">Where to log (event ids 8100-8149); null for none.</param>
    /// <param name="timeProvider">The clock (UTC days, the daily run); null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    /// <exception cref="InvalidOperationException">The mailer already reports to another <see cref="TlsReporting"/>.</exception>
    public TlsReporting(DirectMailer mailer, TlsReportingOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(mailer, options, loggerFactory, timeProvider, store: null, httpHandler: null)
    {
    }

    internal TlsReporting(DirectMailer mailer, TlsReportingOptions options, ILoggerFactory? loggerFactory, TimeProvider? timeProvider, ITlsReportStore? store, HttpMessageHandler? httpHandler)
    {
        ArgumentNullException.ThrowIfNull(mailer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        options = options.Clone();
        loggerFactory ??= NullLoggerFactory.Instance;
        var time = timeProvider ?? TimeProvider.System;
        var logger = loggerFactory.CreateLogger("DirectMail.TlsReporting");
        Aggregator = new TlsReportAggregator(time);
        if (mailer.Delivery.TlsResults is not null)
        {
            throw new InvalidOperationException("This mailer's TLS sessions are already counted by another TlsReporting.");
        }

        // The record is looked up through the mailer's own resolver (its name servers), or one made from its DNS settings.
        var dns = mailer.Delivery.Resolver as MxResolver ?? new MxResolver(mailer.Options.ToResolverOptions(), loggerFactory.CreateLogger<MxResolver>(), time);
        _delivery = new TlsReportDelivery(options, mailer, httpHandler ?? CreateHttpHandler(mailer, dns), time, MimeRandom.Shared, logger);
        Scheduler = new TlsReportScheduler(options, Aggregator, new TlsRptRecordLookup(dns), _delivery, store ?? new InMemoryTlsReportStore(), time, logger);
        mailer.Delivery.TlsResults = Aggregator;
    }

    internal TlsReportAggregator Aggregator { get; }

    /// <summary>
    /// The https destinations' client: the host resolved by the mailer's DNS and only to public addresses unless the
    /// mailer allows private targets (the URI is the receiving domain's to choose), the certificate validated by the
    /// platform's store plus the mailer's trust anchors (<see cref="DirectMailOptions.TrustAnchorFile"/>), no redirects
    /// (the destination is the one the domain published), no proxy, no cookies.
    /// </summary>
    private static SocketsHttpHandler CreateHttpHandler(DirectMailer mailer, MxResolver dns)
    {
        var anchors = TrustAnchors.Create(mailer.Options.TrustAnchorFile, null);
        var hosts = new Routing.RelayHostResolver(mailer.Delivery.Resolver, () => dns);
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = new PolicyHostConnector(hosts.ResolveAsync, mailer.Options.AllowPrivateTargets).ConnectAsync,
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    certificate is System.Security.Cryptography.X509Certificates.X509Certificate2 leaf && anchors.Validate(leaf, chain, errors) == System.Net.Security.SslPolicyErrors.None,
            },
        };
    }

    internal TlsReportScheduler Scheduler { get; }

    /// <summary>
    /// Sends each day's reports after the next 00:00 UTC plus a random wait (<see cref="TlsReportingOptions.MaxSendDelay"/>),
    /// and retries undelivered ones, until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <param name="cancellationToken">Stops the loop (the task then completes).</param>
    public Task RunAsync(CancellationToken cancellationToken) => Scheduler.RunAsync(cancellationToken);

    /// <summary>
    /// Adds what this instance counted so far to the store the reports are built from (<see cref="RunAsync"/> does so every
    /// <see cref="TlsReportingOptions.FlushInterval"/> and when it stops). Counts not added when the process dies are lost.
    /// </summary>
    /// <param name="cancellationToken">Stops the call; the counts are then kept for the next flush.</param>
    /// <returns>True when the store took them (or there was nothing to add); false when it failed (logged; they are kept).</returns>
    public Task<bool> FlushAsync(CancellationToken cancellationToken) => Scheduler.Flusher.FlushAsync(cancellationToken);

    /// <summary>Releases the HTTP client of the https destinations.</summary>
    public void Dispose() => _delivery.Dispose();
}
