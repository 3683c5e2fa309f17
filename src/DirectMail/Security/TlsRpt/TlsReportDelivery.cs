using System;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.Mime;
using DirectMail.Smtp;
using Microsoft.Extensions.Logging;

namespace DirectMail.Security.TlsRpt;

/// <summary>
/// Sends one report to the destinations of a domain's record (RFC 8460 section 5): <c>mailto:</c> as a message through
/// the mailer itself, <c>https:</c> as a POST of the gzip report. Every destination is tried; one that takes the report
/// is enough.
/// </summary>
internal sealed class TlsReportDelivery : IDisposable
{
    private static readonly MediaTypeHeaderValue GzipType = new("application/tlsrpt+gzip");

    private readonly TlsReportingOptions _options;
    private readonly IDirectMailer? _mailer;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly MimeRandom _random;
    private readonly ILogger _logger;

    /// <param name="options">The reporting settings (validated).</param>
    /// <param name="mailer">The mailer for mailto destinations; null: mailto destinations are not used.</param>
    /// <param name="httpHandler">The HTTP handler for https destinations (disposed with this); null for one that follows no redirects.</param>
    /// <param name="timeProvider">The clock (Date field, timeouts).</param>
    /// <param name="random">Boundary and Message-ID.</param>
    /// <param name="logger">Where to log.</param>
    public TlsReportDelivery(TlsReportingOptions options, IDirectMailer? mailer, HttpMessageHandler? httpHandler, TimeProvider timeProvider, MimeRandom random, ILogger logger)
    {
        _options = options;
        _mailer = mailer;

        // No redirects: the destination is the one the domain published in DNS; a redirect elsewhere is not it.
        _http = new HttpClient(httpHandler ?? new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }, disposeHandler: true)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        _time = timeProvider;
        _random = random;
        _logger = logger;
    }

    /// <summary>Sends the report; the number of destinations that took it.</summary>
    public async Task<int> DeliverAsync(TlsRptRecord record, TlsReportHeading heading, TlsReportDomainDay report, CancellationToken cancellationToken)
    {
        var gzip = TlsReportJson.WriteGzip(heading, report);
        var day = DayText(report);
        var taken = 0;
        if (_mailer is not null)
        {
            foreach (var mailbox in record.MailtoAddresses)
            {
                if (await MailAsync(mailbox, heading, report, gzip, day, cancellationToken).ConfigureAwait(false))
                {
                    taken++;
                }
            }
        }

        foreach (var endpoint in record.HttpsEndpoints)
        {
            if (await PostAsync(endpoint, report, gzip, day, cancellationToken).ConfigureAwait(false))
            {
                taken++;
            }
        }

        return taken;
    }

    public void Dispose() => _http.Dispose();

    internal static string DayText(TlsReportDomainDay report) => report.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<bool> MailAsync(string mailbox, TlsReportHeading heading, TlsReportDomainDay report, byte[] gzip, string day, CancellationToken cancellationToken)
    {
        var destination = "mailto:" + mailbox;
        byte[] message;
        SmtpEnvelope envelope;
        try
        {
            envelope = new SmtpEnvelope(_options.ReportSender, [mailbox]);
            message = TlsReportMessage.Write(_options.ReportSender, mailbox, heading, report, gzip, _time.GetUtcNow(), _random);
        }
        catch (ArgumentException e)
        {
            // The mailbox came from DNS: one this sender cannot write is the record's fault, not a reason to stop.
            TlsReportLog.DestinationFailed(_logger, report.PolicyDomain, day, destination, e.Message);
            return false;
        }

        var sent = await _mailer!.SendAsync(envelope, SmtpContent.FromBytes(message), cancellationToken).ConfigureAwait(false);
        var recipient = sent.Recipients[0];

        // Queued by the mailer's queue (a deferral handed over) counts as taken: the queue goes on trying it.
        if (recipient.Status == DeliveryStatus.Delivered || recipient.QueueId is not null)
        {
            TlsReportLog.Sent(_logger, report.PolicyDomain, day, destination);
            return true;
        }

        TlsReportLog.DestinationFailed(_logger, report.PolicyDomain, day, destination, recipient.ToString());
        return false;
    }

    private async Task<bool> PostAsync(Uri endpoint, TlsReportDomainDay report, byte[] gzip, string day, CancellationToken cancellationToken)
    {
        var destination = endpoint.ToString();
        using var timeout = new CancellationTokenSource(_options.HttpsTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var content = new ByteArrayContent(gzip);
            content.Headers.ContentType = GzipType;
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                TlsReportLog.Sent(_logger, report.PolicyDomain, day, destination);
                return true;
            }

            TlsReportLog.DestinationFailed(_logger, report.PolicyDomain, day, destination, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            TlsReportLog.DestinationFailed(_logger, report.PolicyDomain, day, destination, $"no answer within {_options.HttpsTimeout}");
            return false;
        }
        catch (HttpRequestException e)
        {
            TlsReportLog.DestinationFailed(_logger, report.PolicyDomain, day, destination, e.Message);
            return false;
        }
    }
}
