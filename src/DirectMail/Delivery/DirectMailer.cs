using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Diagnostics;
using DirectMail.Dkim;
using DirectMail.Dns;
using DirectMail.Routing;
using DirectMail.Security;
using DirectMail.Security.Dane;
using DirectMail.Security.MtaSts;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace DirectMail.Delivery;

/// <summary>
/// The default <see cref="IDirectMailer"/>: groups recipients by domain, resolves each domain once, delivers to the
/// domains concurrently through pooled SMTP sessions (at most <see cref="DirectMailOptions.MaxConcurrentDomains"/> at work at
/// once over all calls; a destination slow to answer does not count for long), and reports every recipient. Thread-safe; create one per application (or let
/// <c>AddDirectMail</c> do it) and dispose it at the end to close pooled connections.
/// </summary>
public sealed class DirectMailer : IDirectMailer, IAsyncDisposable, IDisposable
{
    private const string PortBlockedDiagnostic = "Every connection to port {0} timed out: outbound port {0} is probably blocked (most cloud and residential networks block it). Ask the provider to open it, or send through a relay (smart host) on port 587.";

    private const string PortBlockedRelayDiagnostic = "Every connection to port {0} timed out: outbound port {0} is probably blocked. Mail goes through the relay {1} (DirectMail:Routes:PortBlockedRelay) until {2:u}; then direct delivery is tried again.";

    private readonly TimeProvider _time;

    /// <summary>The tags of VERP addresses for sends that are not the queue's (the queue's carry its queue id).</summary>
    private static readonly Queue.QueueIdGenerator VerpTags = new();
    private readonly DkimKeyring? _dkim;
    private readonly MtaStsPolicyFetcher? _mtaStsFetcher;
    private MtaStsPolicyCache? _mtaStsPolicies;
    private int _disposed;

    /// <summary>Creates a mailer.</summary>
    /// <param name="options">The settings; copied and checked now (<see cref="DirectMailOptions.Validate"/>), so later changes do not affect this mailer.</param>
    /// <param name="resolver">Finds MX hosts; null for a <see cref="MxResolver"/> made from <paramref name="options"/>.</param>
    /// <param name="loggerFactory">For the logs (the SMTP transcript at Trace level); null for none.</param>
    /// <param name="timeProvider">The clock for deadlines, backoff and pooling; null for the system's.</param>
    /// <param name="resiliencePipeline">Fallback and retry; null for <see cref="DeliveryResilience.AddDefaultStrategies"/> with Polly's telemetry in <paramref name="loggerFactory"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; when several are, the message lists them all.</exception>
    public DirectMailer(DirectMailOptions options, IMxResolver? resolver = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, ResiliencePipeline<DeliveryAttemptOutcome>? resiliencePipeline = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Copy();
        options.Validate();
        Options = options;
        loggerFactory ??= NullLoggerFactory.Instance;
        _time = timeProvider ?? TimeProvider.System;
        Logger = loggerFactory.CreateLogger("DirectMail.Delivery");
        resolver ??= new MxResolver(options.ToResolverOptions(), loggerFactory.CreateLogger<MxResolver>(), _time);
        Delivery = new DeliveryContext
        {
            Resolver = resolver,
            Pool = new SmtpConnectionPool(
                options.ToSessionOptions(plaintext: false),
                options.ToSessionOptions(plaintext: true),
                new SmtpPoolLimits(options.MaxConnectionsPerHost, options.PooledConnectionIdleTimeout, options.PooledConnectionProbeAfter, options.PooledConnectionProbeTimeout),
                loggerFactory.CreateLogger("DirectMail.Smtp"),
                _time),
            Backoff = new HostBackoff(_time, options.HostBackoffAfter421),
            Pipeline = resiliencePipeline ?? CreateDefaultPipeline(options, loggerFactory, _time),
            Logger = Logger,
            Time = _time,
            SessionSlots = new SemaphoreSlim(options.MaxConcurrentDomains, options.MaxConcurrentDomains),
            Port = options.Port,
            AllowPrivateTargets = options.AllowPrivateTargets,
            MaxAddressesPerDomain = options.MaxAddressesPerDomain,
            MaxRecipientsPerTransaction = options.MaxRecipientsPerTransaction,
            TlsMode = options.TlsMode,
            Router = new DeliveryRouter(options.Routes, options.ToRelayTargets(), _time),
            RelayAddresses = new RelayHostResolver(resolver, () => new MxResolver(options.ToResolverOptions(), loggerFactory.CreateLogger<MxResolver>(), _time)).ResolveAsync,
        };

        // Transport security (MTA-STS, DANE): decided per domain before its MX hosts are tried.
        Delivery.TransportSecurity = CreateTransportSecurity(options, resolver, loggerFactory, out _mtaStsFetcher);

        // DKIM: the keys of DirectMail:Dkim, null when there are none.
        _dkim = DkimKeyring.Create(options.Dkim, loggerFactory.CreateLogger("DirectMail.Dkim"), _time);
    }

    internal DirectMailOptions Options { get; }

    /// <summary>Keeps the MTA-STS policy cache's policies in <paramref name="store"/> too (a queue store), so that they survive a restart; nothing when MTA-STS is off.</summary>
    internal void KeepMtaStsPoliciesIn(IMtaStsPolicyStore store)
    {
        if (_mtaStsPolicies is { } cache)
        {
            cache.Store ??= store;
        }
    }

    /// <summary>
    /// The transport-security decision's parts: the MTA-STS policy cache (TXT records through the mailer's DNS, policies
    /// over HTTPS with the trust anchors), and the DANE source when there is one. DANE plugs in here.
    /// </summary>
    private TransportSecurityResolver CreateTransportSecurity(DirectMailOptions options, IMxResolver resolver, ILoggerFactory loggerFactory, out MtaStsPolicyFetcher? fetcher)
    {
        var anchors = TrustAnchors.Create(options.TrustAnchorFile, null);

        // The mailer's own DNS: its MxResolver, or one made from its DNS settings beside an application's IMxResolver.
        var dns = resolver is MxResolver own ? new Lazy<MxResolver>(own) : new Lazy<MxResolver>(() => new MxResolver(options.ToResolverOptions(), loggerFactory.CreateLogger<MxResolver>(), _time), LazyThreadSafetyMode.ExecutionAndPublication);
        IMtaStsPolicySource? mtaSts = null;
        fetcher = null;
        if (options.UseMtaSts)
        {
            var hosts = new RelayHostResolver(resolver, () => dns.Value);
            fetcher = new MtaStsPolicyFetcher(hosts.ResolveAsync, options.AllowPrivateTargets, anchors, options.MtaStsFetchTimeout);
            mtaSts = _mtaStsPolicies = new MtaStsPolicyCache((name, ct) => dns.Value.ResolveTextAsync(name, ct), fetcher.FetchAsync, null, _time, loggerFactory.CreateLogger("DirectMail.Security"));
        }

        IDaneTlsaSource? dane = null;
        if (options.UseDane)
        {
            // TLSA records through the mailer's name servers; the AD bit believed only from a validating resolver (the
            // resolver says once, at this point, when it is not). An application's IMxResolver reports no DNSSEC status.
            var logger = loggerFactory.CreateLogger("DirectMail.Security.Dane");
            var tlsa = new TlsaResolver(options.ToResolverOptions(), options.Port, logger, _time);
            if (tlsa.IsEnabled && resolver is not MxResolver)
            {
                // The application chose its resolver: said, not warned.
                DaneLog.OffForResolver(logger, $"the application's {nameof(IMxResolver)} ({resolver.GetType().Name}) does not report whether MX and address records are DNSSEC-validated, so DANE (RFC 7672) cannot apply.");
            }
            else if (tlsa.IsEnabled)
            {
                dane = new DaneTlsaSource(tlsa, _time);
            }
        }

        return new TransportSecurityResolver(mtaSts, dane, anchors);
    }

    internal ILogger Logger { get; }

    /// <summary>What every domain's delivery works with, built once here.</summary>
    internal DeliveryContext Delivery { get; }

    /// <summary>
    /// Where SendAsync hands the recipients it defers, such as a <see cref="Queue.MailQueue"/>: they are kept with the
    /// attempt just made and tried again on the queue's schedule, and <see cref="RecipientDelivery.QueueId"/> says so
    /// once they are durable. A recipient that may have been delivered (<see cref="RecipientDelivery.MayHaveBeenDelivered"/>)
    /// is not handed over. Null (default): deferred recipients are only reported. Set it before the first send;
    /// <c>AddQueue</c> sets it (<see cref="Queue.MailQueueOptions.HandOffDeferred"/>).
    /// </summary>
    public IDeferredRecipientHandOff? OnDeferred { get; set; }

    /// <summary>
    /// The suppression list SendAsync consults before it connects (and so the queue's worker, which sends through this
    /// mailer): a recipient on it is Failed at once with a reply DirectMail makes (<see cref="SmtpReply.IsSynthetic"/>)
    /// that says it is suppressed and why, nothing is sent to it, and the message's other recipients go as usual. A list
    /// that cannot be read defers the recipients it was asked about. With <see cref="DirectMailOptions.SuppressRefusedRecipients"/>
    /// the recipients servers refuse as invalid are added to it. Null (default): no list. Set it before the first send;
    /// <c>AddSuppressionList</c> sets it.
    /// </summary>
    public Suppression.ISuppressionStore? SuppressionStore { get; set; }

    /// <inheritdoc />
    /// <exception cref="SmtpContentException">The content holds what SMTP cannot carry (a NUL octet in a stream): nothing was sent.</exception>
    public Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default)
        => SendCoreAsync(envelope, content, OnDeferred, null, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="SmtpContentException">The content holds what SMTP cannot carry (a NUL octet in a stream): nothing was sent.</exception>
    public Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, IProgress<DeliveryProgress>? progress, CancellationToken cancellationToken = default)
        => SendCoreAsync(envelope, content, OnDeferred, progress, cancellationToken);

    /// <summary>A send that hands its deferred recipients to <paramref name="handOff"/> (the queue's worker passes none: a queued message is never queued again).</summary>
    internal Task<DeliveryReport> SendCoreAsync(SmtpEnvelope envelope, SmtpContent content, IDeferredRecipientHandOff? handOff, CancellationToken cancellationToken)
        => SendCoreAsync(envelope, content, handOff, null, null, cancellationToken);

    /// <summary>A send that hands its deferred recipients to <paramref name="handOff"/> and reports to <paramref name="progress"/>.</summary>
    internal Task<DeliveryReport> SendCoreAsync(SmtpEnvelope envelope, SmtpContent content, IDeferredRecipientHandOff? handOff, IProgress<DeliveryProgress>? progress, CancellationToken cancellationToken)
        => SendCoreAsync(envelope, content, handOff, progress, null, cancellationToken);

    /// <summary>
    /// A send; with <see cref="DirectMailOptions.Verp"/> on, <paramref name="verpTag"/> names the message in each VERP
    /// address (the queue id of a queued message; null: an id is made for this send).
    /// </summary>
    internal async Task<DeliveryReport> SendCoreAsync(SmtpEnvelope envelope, SmtpContent content, IDeferredRecipientHandOff? handOff, IProgress<DeliveryProgress>? progress, string? verpTag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();

        var started = Stopwatch.GetTimestamp();
        using var activity = DirectMailTelemetry.ActivitySource.StartActivity("directmail.send");
        activity?.SetTag("directmail.recipients", envelope.Recipients.Count);

        // Recipients grouped by domain: A-labels, lower case, without the root dot (SmtpEnvelope.GetRecipientDomain).
        var count = envelope.Recipients.Count;
        var states = new RecipientState[count];
        var groups = new Dictionary<string, List<RecipientState>>(StringComparer.Ordinal);
        var suppression = SuppressionStore;

        // VERP: every recipient its own transaction, with its own reverse path (its envelope, index 0 in it).
        var verp = Options.Verp.IsEnabled && envelope.Sender.Length > 0 ? new List<(string Domain, RecipientState State, SmtpEnvelope Envelope)>(count) : null;
        for (var i = 0; i < count; i++)
        {
            states[i] = new RecipientState(envelope.Recipients[i], verp is null ? i : 0, started);
            var domain = envelope.GetRecipientDomain(i);
            if (progress is not null)
            {
                states[i].Observe(progress, domain);
            }

            if (suppression is not null && await IsSuppressedAsync(suppression, states[i], cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (verp is not null)
            {
                verp.Add((domain, states[i], VerpEnvelope(envelope, i, verpTag ??= VerpTags.Next(_time.GetUtcNow()))));
            }

            if (!groups.TryGetValue(domain, out var group))
            {
                groups[domain] = group = new List<RecipientState>();
            }

            group.Add(states[i]);
        }

        // One deadline for the whole call (SendTimeout), and the caller's cancellation.
        using var deadline = new CancellationTokenSource(Options.SendTimeout, _time);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);

        // Every domain's delivery writes the content at once, and again on fallback: content that cannot be written so
        // (a stream) is read once now, before any connection, into private spools that live until the send ends.
        var spools = new IO.ContentSpools();
        await using var spoolsLifetime = spools.ConfigureAwait(false);
        try
        {
            content = await content.ShareAsync(spools, concurrent: (verp is null ? groups.Count : verp.Count) > 1, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var reason = cancellationToken.IsCancellationRequested ? "The send was canceled while the message content was read." : $"DirectMail:SendTimeout ({Options.SendTimeout}) elapsed while the message content was read.";
            foreach (var state in states)
            {
                state.Finish(DeliveryStatus.Deferred, null, reason);
            }

            if (progress is not null)
            {
                foreach (var (domain, group) in groups)
                {
                    progress.Report(DeliveryProgress.DomainDone(domain, 0, group.Count, 0));
                }
            }

            groups.Clear();
        }

        // RFC 8689 section 5 (TLS-Required: No), read once the content is readied: a forward-only stream's header is
        // known only once it is spooled, and every content kind readied or wrapped (spools, DKIM) keeps what it wraps says.
        var tlsRequiredNo = content.TlsRequiredNo;

        // What a hand-off stores is the content before signing: the queue's own sends sign it again.
        var unsigned = content;

        // DKIM: signed for each server as it is written, with the keys of the From (or envelope sender) domain.
        if (_dkim is not null)
        {
            content = _dkim.Wrap(content, envelope.Sender);
        }

        var deliveries = new List<DomainDelivery>(groups.Count);
        var tasks = new List<Task>(groups.Count);
        var senderDomain = DeliveryRouter.SenderDomain(envelope.Sender);
        if (verp is not null && groups.Count > 0)
        {
            foreach (var (domain, state, single) in verp)
            {
                Start(domain, single, [state]);
            }

            groups.Clear();
        }

        foreach (var (domain, group) in groups)
        {
            Start(domain, envelope, group.ToArray());
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);

        var report = BuildReport(states, deliveries, started);
        if (suppression is not null && Options.SuppressRefusedRecipients && report.FailedCount > 0)
        {
            await SuppressRefusedAsync(suppression, report).ConfigureAwait(false);
        }

        Record(report, activity);
        if (cancellationToken.IsCancellationRequested)
        {
            throw new DeliveryCanceledException(report, cancellationToken);
        }

        // A REQUIRETLS message is handed over with the flag (the queue keeps it, and every retry sends with it).
        if (handOff is not null && report.DeferredCount > 0)
        {
            report = await HandOffAsync(handOff, envelope, unsigned, report, cancellationToken).ConfigureAwait(false);
        }

        return report;

        // One domain's delivery (with VERP, one recipient's), started now, with what every delivery of this send shares.
        void Start(string domain, SmtpEnvelope domainEnvelope, RecipientState[] recipients)
        {
            var (relay, route) = Delivery.Router.Choose(senderDomain, domain);
            var delivery = new DomainDelivery(Delivery, domain, domainEnvelope, content, recipients, relay, route, progress) { TlsRequiredNo = tlsRequiredNo };
            deliveries.Add(delivery);
            tasks.Add(RunDomainAsync(delivery, domain, recipients, progress, deadline.Token, cancellationToken));
        }
    }

    /// <summary>
    /// Whether the recipient is on the suppression list; if so it is Failed now, with a reply saying why. A list that
    /// cannot be read defers the recipient (nothing is sent to an address that may be suppressed; the queue tries again).
    /// </summary>
    private async ValueTask<bool> IsSuppressedAsync(Suppression.ISuppressionStore suppression, RecipientState state, CancellationToken cancellationToken)
    {
        Suppression.SuppressedRecipient? entry;
        try
        {
            entry = await suppression.FindAsync(state.Address, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            SuppressionLog.CheckFailed(Logger, state.Address, e);
            state.Finish(DeliveryStatus.Deferred, null, "The suppression list could not be read (" + e.Message + "): not sent, so that a suppressed address is not mailed.");
            return true;
        }

        if (entry is null)
        {
            return false;
        }

        SuppressionLog.Suppressed(Logger, state.Address, entry.SuppressedAt, entry.Source, entry.Classification);
        state.Hinted(Suppression.SuppressionCheck.Hint);
        state.Finish(DeliveryStatus.Failed, Suppression.SuppressionCheck.Reply(state.Address, entry), null);
        return true;
    }

    /// <summary>DirectMail:SuppressRefusedRecipients: the recipients a server refused as invalid go on the list (a failing store is logged, not thrown).</summary>
    private async Task SuppressRefusedAsync(Suppression.ISuppressionStore suppression, DeliveryReport report)
    {
        var now = _time.GetUtcNow();
        foreach (var r in report.Recipients)
        {
            if (r.Status != DeliveryStatus.Failed || r.Reply is null || Suppression.SuppressionCheck.FromRefusal(r.Address, r.Reply, now) is not { } entry)
            {
                continue;
            }

            try
            {
                await suppression.AddAsync(entry, CancellationToken.None).ConfigureAwait(false);
                SuppressionLog.Added(Logger, entry.Address, entry.Source, entry.Classification, entry.Status?.ToString());
            }
            catch (Exception e)
            {
                SuppressionLog.AddFailed(Logger, r.Address, e);
            }
        }
    }

    /// <summary>One recipient's envelope with its VERP reverse path (and its DSN parameters); the plain sender when no VERP address can be made for it.</summary>
    private SmtpEnvelope VerpEnvelope(SmtpEnvelope envelope, int index, string tag)
    {
        var address = envelope.Recipients[index];
        string sender;
        try
        {
            sender = Dsn.VerpAddress.Encode(Options.Verp.Prefix, tag, address, Options.Verp.BounceDomain!);
        }
        catch (ArgumentException e)
        {
            SuppressionLog.NoVerpAddress(Logger, address, e.Message);
            sender = envelope.Sender;
        }

        return new SmtpEnvelope(sender, [new SmtpRecipient(address, envelope.GetRecipientNotify(index), envelope.GetOriginalRecipient(index))])
        {
            DsnReturn = envelope.DsnReturn,
            DsnEnvelopeId = envelope.DsnEnvelopeId,
            RequireTls = envelope.RequireTls,
        };
    }

    /// <summary>
    /// Hands the deferred recipients that were surely not delivered to the queue and marks them with its id once it
    /// is durable. A failing hand-off is logged and named in the report's diagnostics: they stay reported Deferred.
    /// </summary>
    private async Task<DeliveryReport> HandOffAsync(IDeferredRecipientHandOff handOff, SmtpEnvelope envelope, SmtpContent content, DeliveryReport report, CancellationToken cancellationToken)
    {
        var indexes = new List<int>(report.DeferredCount);
        for (var i = 0; i < report.Recipients.Count; i++)
        {
            if (report.Recipients[i] is { Status: DeliveryStatus.Deferred, MayHaveBeenDelivered: false })
            {
                indexes.Add(i);
            }
        }

        if (indexes.Count == 0)
        {
            return report;
        }

        try
        {
            var queueId = await handOff.HandOffAsync(envelope, content, report, indexes, cancellationToken).ConfigureAwait(false);
            foreach (var i in indexes)
            {
                report.Recipients[i].QueueId = queueId;
            }

            return report;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            QueueLog.HandOffFailed(Logger, e);
            return report.WithDiagnostic("The deferred recipients could not be handed to the queue (" + e.Message + "); they are not queued.");
        }
    }

    /// <summary>Closes the pooled connections, each after QUIT and the server's reply (bounded by the command timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Delivery.Pool.DisposeAsync().ConfigureAwait(false);
        Delivery.SessionSlots.Dispose();
        _dkim?.Dispose();
        _mtaStsFetcher?.Dispose();
    }

    /// <summary>
    /// Closes the pooled connections at once, without QUIT and without waiting for any server (as
    /// <c>SocketsHttpHandler</c> does); connections in use by a send are closed the same way when it is done with them.
    /// <see cref="DisposeAsync"/> says QUIT to each server first.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Delivery.Pool.Dispose();
        Delivery.SessionSlots.Dispose();
        _dkim?.Dispose();
        _mtaStsFetcher?.Dispose();
    }

    internal static ResiliencePipeline<DeliveryAttemptOutcome> CreateDefaultPipeline(DirectMailOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<DeliveryAttemptOutcome> { Name = DeliveryResilience.PipelineName, TimeProvider = time };
        Polly.Telemetry.TelemetryOptions telemetry = new() { LoggerFactory = loggerFactory, SeverityProvider = DeliveryResilience.Severity };
        builder.ConfigureTelemetry(telemetry);
        return DeliveryResilience.AddDefaultStrategies(builder, options).Build();
    }

    private async Task RunDomainAsync(DomainDelivery delivery, string domain, RecipientState[] group, IProgress<DeliveryProgress>? progress, CancellationToken deadline, CancellationToken caller)
    {
        try
        {
            await delivery.RunAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var pending = 0;
            var reason = caller.IsCancellationRequested
                ? "The send was canceled before this recipient had an outcome."
                : $"DirectMail:SendTimeout ({Options.SendTimeout}) elapsed before this recipient had an outcome.";
            foreach (var r in group)
            {
                if (r.IsPending)
                {
                    pending++;
                    r.Finish(DeliveryStatus.Deferred, r.Reply, reason);
                }
            }

            DeliveryLog.Canceled(Logger, domain, pending);
        }

        if (progress is not null)
        {
            int delivered = 0, deferred = 0, failed = 0;
            foreach (var r in group)
            {
                delivered += r.Status == DeliveryStatus.Delivered ? 1 : 0;
                deferred += r.Status == DeliveryStatus.Deferred ? 1 : 0;
                failed += r.Status == DeliveryStatus.Failed ? 1 : 0;
            }

            progress.Report(DeliveryProgress.DomainDone(domain, delivered, deferred, failed));
        }
    }

    private DeliveryReport BuildReport(RecipientState[] states, List<DomainDelivery> deliveries, long started)
    {
        var diagnostics = new List<string>();
        int attempts = 0, timeouts = 0;
        foreach (var d in deliveries)
        {
            attempts += d.ConnectAttempts;
            timeouts += d.ConnectTimeouts;
        }

        if (attempts > 0 && timeouts == attempts)
        {
            var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, PortBlockedDiagnostic, Options.Port);
            DeliveryLog.PortBlocked(Logger, Options.Port);
            if (Delivery.Router.DirectTimedOut())
            {
                // DirectMail:Routes:PortBlockedRelay: this send's recipients already went through it; the next ones go
                // straight to it until the time to probe direct delivery again.
                var until = _time.GetUtcNow() + Options.Routes.PortBlockedRelayDuration;
                DeliveryLog.DirectBlocked(Logger, Delivery.Router.PortBlocked!.Name, until);
                text = string.Format(System.Globalization.CultureInfo.InvariantCulture, PortBlockedRelayDiagnostic, Options.Port, Delivery.Router.PortBlocked.Name, until);
            }

            diagnostics.Add(text);
            foreach (var r in states)
            {
                if (r.ConnectTimedOut && r.Status != DeliveryStatus.Delivered)
                {
                    r.Hinted(text);
                }
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var recipients = new RecipientDelivery[states.Length];
        for (var i = 0; i < states.Length; i++)
        {
            recipients[i] = states[i].ToDelivery(elapsed);
        }

        return new DeliveryReport(recipients, elapsed, diagnostics);
    }

    private static void Record(DeliveryReport report, Activity? activity)
    {
        var outcome = report.IsFullyDelivered ? "delivered"
            : report.DeliveredCount > 0 ? "partial"
            : report.FailedCount == 0 ? "deferred"
            : "failed";
        var tag = new KeyValuePair<string, object?>(DirectMailTelemetry.OutcomeAttribute, outcome);
        DirectMailTelemetry.Messages.Add(1, tag);
        if (report.DeliveredCount > 0)
        {
            DirectMailTelemetry.Recipients.Add(report.DeliveredCount, new KeyValuePair<string, object?>(DirectMailTelemetry.OutcomeAttribute, "delivered"));
        }

        if (report.DeferredCount > 0)
        {
            DirectMailTelemetry.Recipients.Add(report.DeferredCount, new KeyValuePair<string, object?>(DirectMailTelemetry.OutcomeAttribute, "deferred"));
        }

        if (report.FailedCount > 0)
        {
            DirectMailTelemetry.Recipients.Add(report.FailedCount, new KeyValuePair<string, object?>(DirectMailTelemetry.OutcomeAttribute, "failed"));
        }

        DirectMailTelemetry.SendDuration.Record(report.Duration.TotalSeconds, tag);
        if (activity is not null)
        {
            activity.SetTag(DirectMailTelemetry.OutcomeAttribute, outcome);
            if (report.FailedCount == report.Recipients.Count && report.FailedCount > 0)
            {
                // Every recipient failed for good: the send is an error; deferred and partial outcomes are not.
                activity.SetStatus(ActivityStatusCode.Error, report.Recipients[0].Reply?.ToString() ?? report.Recipients[0].Detail);
            }
        }
    }
}
