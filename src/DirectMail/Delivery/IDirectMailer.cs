using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>
/// Delivers messages straight to the recipients' mail servers: resolves each recipient domain's MX hosts, talks SMTP
/// to them with fallback and retries, and reports what happened to every recipient. Thread-safe; one instance per
/// application.
/// </summary>
public interface IDirectMailer
{
    /// <summary>Delivers a message to every recipient of <paramref name="envelope"/>.</summary>
    /// <param name="envelope">The sender (MAIL FROM) and the recipients (RCPT TO), already checked.</param>
    /// <param name="content">The message. It is written once per transaction; content that can be written only once fails on fallback.</param>
    /// <param name="cancellationToken">Cancels the send: <see cref="DeliveryCanceledException"/> (an <see cref="System.OperationCanceledException"/>) is thrown with the report so far. A transaction whose end of message was already sent is not cut: its reply is awaited (at most Timeouts.DataTermination) and is in that report.</param>
    /// <returns>One outcome per recipient. Failures are reported here; only invalid arguments and cancellation throw.</returns>
    Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Delivers a message to every recipient of <paramref name="envelope"/> and reports each domain and recipient as it
    /// settles (<see cref="DeliveryProgress"/>). An implementation that cannot report progress (this default) ignores
    /// <paramref name="progress"/> and does what <see cref="SendAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/> does.
    /// </summary>
    /// <param name="envelope">The sender (MAIL FROM) and the recipients (RCPT TO), already checked.</param>
    /// <param name="content">The message.</param>
    /// <param name="progress">Told of each domain resolved, each recipient settled (exactly once each) and each domain settled; null for none.</param>
    /// <param name="cancellationToken">Cancels the send, as for <see cref="SendAsync(SmtpEnvelope, SmtpContent, CancellationToken)"/>.</param>
    /// <returns>One outcome per recipient.</returns>
    Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, IProgress<DeliveryProgress>? progress, CancellationToken cancellationToken = default)
        => SendAsync(envelope, content, cancellationToken);
}
