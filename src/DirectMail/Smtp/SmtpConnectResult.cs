using System;
using System.Collections.Generic;

namespace DirectMail.Smtp;

/// <summary>The outcome of opening a session: the connection, greeting, EHLO and, by the TLS mode, STARTTLS.</summary>
public sealed class SmtpConnectResult
{
    internal SmtpConnectResult(SmtpReply? greeting, SmtpFailure? failure)
    {
        Greeting = greeting;
        Failure = failure;
    }

    /// <summary>True when the session is ready for transactions.</summary>
    public bool IsSuccess => Failure is null;

    /// <summary>The server's greeting, when one was read (a 4xx or 5xx greeting is in <see cref="Failure"/> too).</summary>
    public SmtpReply? Greeting { get; }

    /// <summary>Why the session is not ready; null on success.</summary>
    public SmtpFailure? Failure { get; }

    /// <inheritdoc />
    public override string ToString() => IsSuccess ? $"Ready ({Greeting})" : Failure!.ToString();
}
