using System;
using System.Collections.Generic;
using System.Net;
using System.Text;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>What became of one recipient.</summary>
public enum DeliveryStatus
{
    /// <summary>A receiving server accepted the message for this recipient.</summary>
    Delivered,

    /// <summary>Not delivered now, for a reason that may pass (4xx, unreachable hosts, DNS failure): queue it and try again later.</summary>
    Deferred,

    /// <summary>Not delivered, for a reason that will not pass (5xx, no such domain, null MX): do not try again.</summary>
    Failed,
}

/// <summary>The outcome for one envelope recipient.</summary>
public sealed class RecipientDelivery
{
    internal RecipientDelivery(string address, DeliveryStatus status, SmtpReply? reply, string? mxHost, IPAddress? serverAddress, int attempts, TimeSpan duration, bool isPolicyRejection, string? hint, string? detail, bool mayHaveBeenDelivered = false)
    {
        MayHaveBeenDelivered = mayHaveBeenDelivered;
        Address = address;
        Status = status;
        Reply = reply;
        MxHost = mxHost;
        ServerAddress = serverAddress;
        Attempts = attempts;
        Duration = duration;
        IsPolicyRejection = isPolicyRejection;
        Hint = hint;
        Detail = detail;
    }

    /// <summary>The recipient address as given.</summary>
    public string Address { get; }

    /// <summary>Delivered, Deferred or Failed.</summary>
    public DeliveryStatus Status { get; }

    /// <summary>
    /// The reply that decided, exactly as the last server tried gave it (code, enhanced status code, every line). When
    /// DirectMail decided without a server (no such domain, null MX, a private address refused), a reply it made, with
    /// <see cref="SmtpReply.IsSynthetic"/> set. Null when no reply was had (every connection failed): see <see cref="Detail"/>.
    /// </summary>
    public SmtpReply? Reply { get; }

    /// <summary>The MX host last tried for this recipient.</summary>
    public string? MxHost { get; }

    /// <summary>The address of the MX host last tried.</summary>
    public IPAddress? ServerAddress { get; }

    /// <summary>How many connections this recipient was tried on.</summary>
    public int Attempts { get; }

    /// <summary>From the start of the SendAsync call to this recipient's outcome.</summary>
    public TimeSpan Duration { get; }

    /// <summary>
    /// True when the receiver refused because of who is sending (5.7.1, 5.7.25, 5.7.26, or Gmail's 421 4.7.0
    /// authentication failures): retrying will not help until SPF, DKIM or reverse DNS are in order. See <see cref="Hint"/>.
    /// </summary>
    public bool IsPolicyRejection { get; }

    /// <summary>What to do about it, when DirectMail knows.</summary>
    public string? Hint { get; }

    /// <summary>What happened, when the reply alone does not say (connection failures, timeouts, DNS).</summary>
    public string? Detail { get; }

    /// <summary>
    /// True for a <see cref="DeliveryStatus.Deferred"/> recipient whose message end was sent but whose reply never
    /// came (the connection broke, or <see cref="SmtpSessionOptions.DataTerminationTimeout"/> passed): the server
    /// may have taken the message (RFC 1047). DirectMail does not send it again; resending it risks a second copy.
    /// </summary>
    public bool MayHaveBeenDelivered { get; }

    /// <summary>
    /// The queue id under which this Deferred recipient is kept for later attempts, when the mailer hands what it
    /// defers to a queue (<see cref="DirectMailer.OnDeferred"/>); set only once the queue has it durably. Null otherwise.
    /// </summary>
    public string? QueueId { get; internal set; }

    /// <inheritdoc />
    public override string ToString()
    {
        var builder = new StringBuilder().Append(Address).Append(": ").Append(Status);
        if (Reply is not null)
        {
            builder.Append(" (").Append(Reply.ToString().Replace('\n', ' ')).Append(')');
        }
        else if (Detail is not null)
        {
            builder.Append(" (").Append(Detail).Append(')');
        }

        if (MxHost is not null)
        {
            builder.Append(" via ").Append(MxHost);
            if (ServerAddress is not null)
            {
                builder.Append(" [").Append(ServerAddress).Append(']');
            }
        }

        return builder.ToString();
    }
}

/// <summary>The outcome of one <see cref="IDirectMailer.SendAsync(SmtpEnvelope, SmtpContent, System.Threading.CancellationToken)"/>: one entry per envelope recipient, in envelope order.</summary>
public sealed class DeliveryReport
{
    internal DeliveryReport(IReadOnlyList<RecipientDelivery> recipients, TimeSpan duration, IReadOnlyList<string> diagnostics)
    {
        Recipients = recipients;
        Duration = duration;
        Diagnostics = diagnostics;
        foreach (var r in recipients)
        {
            switch (r.Status)
            {
                case DeliveryStatus.Delivered:
                    DeliveredCount++;
                    break;
                case DeliveryStatus.Deferred:
                    DeferredCount++;
                    break;
                default:
                    FailedCount++;
                    break;
            }
        }
    }

    /// <summary>Every envelope recipient, in envelope order.</summary>
    public IReadOnlyList<RecipientDelivery> Recipients { get; }

    /// <summary>How many were delivered.</summary>
    public int DeliveredCount { get; }

    /// <summary>How many are deferred (try again later).</summary>
    public int DeferredCount { get; }

    /// <summary>How many failed for good.</summary>
    public int FailedCount { get; }

    /// <summary>True when every recipient was delivered.</summary>
    public bool IsFullyDelivered => DeliveredCount == Recipients.Count;

    /// <summary>How long the SendAsync call took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Findings about the whole send, such as "outbound port 25 is probably blocked".</summary>
    public IReadOnlyList<string> Diagnostics { get; }

    /// <summary>Throws <see cref="DeliveryException"/> unless every recipient was delivered, in the style of <c>EnsureSuccessStatusCode</c>.</summary>
    /// <returns>This report, when every recipient was delivered.</returns>
    public DeliveryReport EnsureDelivered()
    {
        return IsFullyDelivered ? this : throw new DeliveryException(this);
    }

    /// <summary>This report with one more diagnostic.</summary>
    internal DeliveryReport WithDiagnostic(string diagnostic)
    {
        var diagnostics = new List<string>(Diagnostics) { diagnostic };
        return new DeliveryReport(Recipients, Duration, diagnostics);
    }

    /// <inheritdoc />
    public override string ToString() => $"{DeliveredCount} delivered, {DeferredCount} deferred, {FailedCount} failed in {Duration.TotalMilliseconds:F0} ms";
}

/// <summary>Thrown by <see cref="DeliveryReport.EnsureDelivered"/>: lists every recipient that was not delivered.</summary>
public sealed class DeliveryException : Exception
{
    /// <summary>Creates the exception for a report.</summary>
    public DeliveryException(DeliveryReport report)
        : base(Describe(report ?? throw new ArgumentNullException(nameof(report))))
    {
        Report = report;
    }

    /// <summary>The whole report.</summary>
    public DeliveryReport Report { get; }

    private static string Describe(DeliveryReport report)
    {
        var builder = new StringBuilder();
        builder.Append(report.DeferredCount + report.FailedCount).Append(" of ").Append(report.Recipients.Count).Append(" recipients were not delivered:");
        foreach (var r in report.Recipients)
        {
            if (r.Status != DeliveryStatus.Delivered)
            {
                builder.Append(Environment.NewLine).Append("  ").Append(r);
            }
        }

        foreach (var d in report.Diagnostics)
        {
            builder.Append(Environment.NewLine).Append(d);
        }

        return builder.ToString();
    }
}

/// <summary>
/// Thrown when SendAsync is canceled by its caller. Recipients a server had already accepted are in
/// <see cref="Report"/> as Delivered; the rest as Deferred.
/// </summary>
public sealed class DeliveryCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public DeliveryCanceledException(DeliveryReport report, System.Threading.CancellationToken cancellationToken)
        : base("The send was canceled; see Report for the recipients already delivered.", cancellationToken)
    {
        Report = report;
    }

    /// <summary>What had happened by the time the send was canceled.</summary>
    public DeliveryReport Report { get; }
}
