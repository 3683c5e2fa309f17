using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;

namespace DirectMail.Tests.Security.TlsRpt;

/// <summary>An <see cref="IDirectMailer"/> that keeps what it was given to send and answers Delivered (or, when told, Deferred).</summary>
internal sealed class RecordingMailer : IDirectMailer
{
    public ConcurrentQueue<(SmtpEnvelope Envelope, byte[] Message)> Sent { get; } = new();

    /// <summary>When true, every send is answered Deferred (the destination's MX did not take it).</summary>
    public bool Defer { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    private int _calls;

    public async Task<DeliveryReport> SendAsync(SmtpEnvelope envelope, SmtpContent content, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        using var buffer = new MemoryStream();
        await content.WriteToAsync(buffer, SmtpCapabilities.Minimal, cancellationToken);
        if (!Defer)
        {
            Sent.Enqueue((envelope, buffer.ToArray()));
        }

        var status = Defer ? DeliveryStatus.Deferred : DeliveryStatus.Delivered;
        var recipient = new RecipientDelivery(envelope.Recipients[0], status, null, "mx.reports.test", null, 1, TimeSpan.Zero, false, null, Defer ? "451 try later" : null);
        return new DeliveryReport([recipient], TimeSpan.Zero, []);
    }
}
