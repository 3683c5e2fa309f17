using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Queue;

/// <summary>The worker's sends through a <see cref="DirectMailer"/>, and its destinations from the mailer's resolver.</summary>
internal sealed class MailerQueueSender(DirectMailer mailer) : IQueueSender
{
    public Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken)
        => mailer.SendCoreAsync(envelope, content, handOff: null, cancellationToken);

    public Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, string queueId, CancellationToken cancellationToken)
        => mailer.SendCoreAsync(envelope, content, handOff: null, progress: null, verpTag: queueId, cancellationToken);

    /// <summary>
    /// The MX host names, sorted and joined ("mx1.example.net mx2.example.net"): domains hosted by one provider share
    /// its destination, so a dead MX is remembered once for all of them (Exim's per-host retry). The resolver caches
    /// answers (the send that follows asks it again and hits the cache); a failed lookup keys by the domain.
    /// </summary>
    public async ValueTask<string> GetDestinationAsync(string domain, CancellationToken cancellationToken)
    {
        var resolution = await mailer.Delivery.Resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false);
        if (!resolution.IsSuccess || resolution.Targets.IsEmpty)
        {
            return "domain " + domain;
        }

        var hosts = new string[resolution.Targets.Length];
        for (var i = 0; i < hosts.Length; i++)
        {
            hosts[i] = resolution.Targets[i].Host.ToLowerInvariant();
        }

        Array.Sort(hosts, StringComparer.Ordinal);
        return string.Join(' ', (IEnumerable<string>)hosts);
    }
}
