using System;
using System.Net;
using System.Threading.Tasks;
using DirectMail.Smtp;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace DirectMail.Delivery;

/// <summary>
/// The result of one round of delivery to a domain (its MX addresses tried in order, each at once after the one
/// before): the value the resilience pipeline (<see cref="DeliveryResilience"/>) decides on.
/// </summary>
public sealed class DeliveryAttemptOutcome
{
    internal DeliveryAttemptOutcome(string domain, DeliveryNextStep nextStep, int pendingRecipients, string? mxHost, IPEndPoint? endPoint, SmtpFailure? failure)
    {
        Domain = domain;
        NextStep = nextStep;
        PendingRecipients = pendingRecipients;
        MxHost = mxHost;
        EndPoint = endPoint;
        Failure = failure;
    }

    /// <summary>The recipient domain.</summary>
    public string Domain { get; }

    /// <summary>What to do next.</summary>
    public DeliveryNextStep NextStep { get; }

    /// <summary>How many recipients of the domain have no outcome yet.</summary>
    public int PendingRecipients { get; }

    /// <summary>The MX host tried last in the round, when one was tried.</summary>
    public string? MxHost { get; }

    /// <summary>The address tried last in the round, when one was tried.</summary>
    public IPEndPoint? EndPoint { get; }

    /// <summary>Why the last address of the round did not finish the domain, when its session failed (connection, greeting, TLS, I/O).</summary>
    public SmtpFailure? Failure { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Domain} via {MxHost} [{EndPoint}]: {NextStep}, {PendingRecipients} pending{(Failure is null ? string.Empty : ", " + Failure)}";
}
