using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>
/// How the worker delivers: the mailer's send without the hand-off (a queued message is never queued again), and the
/// destination a domain's mail goes to (its MX host set), by which the worker remembers hosts that are down.
/// </summary>
internal interface IQueueSender
{
    /// <summary>One send; cancellation throws <see cref="DeliveryCanceledException"/> with the report so far.</summary>
    Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken);

    /// <summary>One send of a queued message; <paramref name="queueId"/> tags its VERP addresses when the mailer makes them.</summary>
    Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, string queueId, CancellationToken cancellationToken)
        => SendAsync(envelope, content, cancellationToken);

    /// <summary>The destination of a recipient domain: its MX host names, from the resolver's cache.</summary>
    ValueTask<string> GetDestinationAsync(string domain, CancellationToken cancellationToken);
}
