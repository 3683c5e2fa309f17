using System;

namespace DirectMail.Queue;

/// <summary>One delivery attempt of one queued recipient, as recorded by the store.</summary>
public sealed class QueueAttempt
{
    /// <summary>Creates an attempt record.</summary>
    /// <param name="startedAt">When the attempt started.</param>
    /// <param name="outcome">The state the attempt left the recipient in.</param>
    /// <param name="reply">The reply that decided, every line joined with LF (<c>"450-4.2.0 first\n450 4.2.0 last"</c>), or null when no server replied.</param>
    /// <param name="mxHost">The MX host last tried, if any.</param>
    /// <param name="serverAddress">The IP address last tried, if any.</param>
    /// <param name="detail">What happened when the reply alone does not say (connection refused, timeout, DNS).</param>
    public QueueAttempt(DateTimeOffset startedAt, QueueRecipientState outcome, string? reply, string? mxHost, string? serverAddress, string? detail)
    {
        StartedAt = startedAt;
        Outcome = outcome;
        Reply = reply;
        MxHost = mxHost;
        ServerAddress = serverAddress;
        Detail = detail;
    }

    /// <summary>When the attempt started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The state the attempt left the recipient in.</summary>
    public QueueRecipientState Outcome { get; }

    /// <summary>The reply that decided (lines joined with LF), or null when no server replied.</summary>
    public string? Reply { get; }

    /// <summary>The MX host last tried, if any.</summary>
    public string? MxHost { get; }

    /// <summary>The IP address last tried, if any.</summary>
    public string? ServerAddress { get; }

    /// <summary>What happened when the reply alone does not say.</summary>
    public string? Detail { get; }
}
