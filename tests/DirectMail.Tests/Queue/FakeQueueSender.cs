using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Queue;
using DirectMail.Smtp;

namespace DirectMail.Tests.Queue;

/// <summary>
/// The worker's sender in unit tests: no server. Each send writes the content as a session would (so the barrier
/// runs) and answers every recipient with what <see cref="Outcome"/> says for its address.
/// </summary>
internal sealed class FakeQueueSender : IQueueSender
{
    private int _inProgress;
    private int _maxInProgress;

    public List<(SmtpEnvelope Envelope, byte[] Content)> Sends { get; } = new();

    /// <summary>Awaited by every send before it answers (holds sends in progress); null: none.</summary>
    public Func<Task>? Gate { get; set; }

    /// <summary>The sends in progress now.</summary>
    public int InProgress => Volatile.Read(ref _inProgress);

    /// <summary>The most sends that were ever in progress at once.</summary>
    public int MaxInProgress => Volatile.Read(ref _maxInProgress);

    /// <summary>The outcome of one recipient; Delivered with 250 by default.</summary>
    public Func<string, RecipientDelivery> Outcome { get; set; } = address => Delivered(address);

    /// <summary>The destination of a domain (the MX host set); the domain by default.</summary>
    public Func<string, string> Destination { get; set; } = domain => "mx." + domain;

    public static RecipientDelivery Delivered(string address) => new(address, DeliveryStatus.Delivered, new SmtpReply(250, ["2.0.0 Ok: queued as 1"]), "mx.example.net", IPAddress.Parse("192.0.2.25"), 1, TimeSpan.FromMilliseconds(5), false, null, null);

    public static RecipientDelivery Deferred(string address, int code = 450, string text = "4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.net.html") => new(address, DeliveryStatus.Deferred, new SmtpReply(code, [text]), "mx.example.net", IPAddress.Parse("192.0.2.25"), 1, TimeSpan.FromMilliseconds(5), false, null, null);

    public static RecipientDelivery Unreachable(string address) => new(address, DeliveryStatus.Deferred, null, "mx.example.net", IPAddress.Parse("192.0.2.25"), 1, TimeSpan.FromMilliseconds(5), false, null, "Connection refused");

    public static RecipientDelivery Failed(string address) => new(address, DeliveryStatus.Failed, new SmtpReply(550, ["5.1.1 <" + address + ">: Recipient address rejected: User unknown"]), "mx.example.net", IPAddress.Parse("192.0.2.25"), 1, TimeSpan.FromMilliseconds(5), false, null, null);

    public static RecipientDelivery LostAfterDot(string address) => new(address, DeliveryStatus.Deferred, null, "mx.example.net", IPAddress.Parse("192.0.2.25"), 1, TimeSpan.FromMilliseconds(5), false, null, "No reply came after the end of the message", mayHaveBeenDelivered: true);

    public async Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _inProgress);
        for (var max = _maxInProgress; now > max; max = _maxInProgress)
        {
            Interlocked.CompareExchange(ref _maxInProgress, now, max);
        }

        try
        {
            var written = new MemoryStream();
            await content.WriteToAsync(written, SmtpCapabilities.Minimal, cancellationToken);
            lock (Sends)
            {
                Sends.Add((envelope, written.ToArray()));
            }

            if (Gate is { } gate)
            {
                await gate();
            }

            return new DeliveryReport(envelope.Recipients.Select(Outcome).ToList(), TimeSpan.FromMilliseconds(5), []);
        }
        finally
        {
            Interlocked.Decrement(ref _inProgress);
        }
    }

    public ValueTask<string> GetDestinationAsync(string domain, CancellationToken cancellationToken) => ValueTask.FromResult(Destination(domain));
}
