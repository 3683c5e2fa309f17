using System;
using System.Net;
using System.Text;
using DirectMail.Routing;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>The outcome for one envelope recipient.</summary>
public sealed class RecipientDelivery
{
    internal RecipientDelivery(string address, DeliveryStatus status, SmtpReply? reply, string? mxHost, IPAddress? serverAddress, int attempts, TimeSpan duration, bool isPolicyRejection, string? hint, string? detail, bool mayHaveBeenDelivered = false, DeliveryRoute route = DeliveryRoute.Direct)
    {
        Route = route;
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

    /// <summary>
    /// How the session of the last attempt was protected (none, unauthenticated, PKIX-validated, MTA-STS, DANE-EE, DANE-TA;
    /// the TLS version and cipher suite); null when no session was established (every connection failed, or a policy
    /// forbade every MX host).
    /// </summary>
    public Security.TlsPosture? Tls { get; internal init; }

    /// <summary>
    /// Why TLS failed on the last attempt, as TLS-RPT (RFC 8460) names it: the server did not offer STARTTLS when a policy
    /// required it, a certificate the policy refused, an MX host outside the MTA-STS policy, a DANE lookup that failed. Also
    /// set for a recipient delivered under an MTA-STS policy in <c>testing</c> mode whose check failed. Null otherwise.
    /// </summary>
    public Security.TlsFailureType? TlsFailure { get; internal init; }

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

    /// <summary>
    /// Which way the recipient's message went on its last attempt: <see cref="DeliveryRoute.Direct"/> to the MX hosts, or
    /// through a relay (configured, fallback, or because port 25 is blocked); <see cref="MxHost"/> then names the relay host.
    /// </summary>
    public DeliveryRoute Route { get; }

    /// <summary>The MX host (or, through a relay, the relay host) last tried for this recipient.</summary>
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
    /// came (the connection broke, or <see cref="SmtpTimeouts.DataTermination"/> passed): the server
    /// may have taken the message (RFC 1047). DirectMail does not send it again; resending it risks a second copy.
    /// </summary>
    public bool MayHaveBeenDelivered { get; }

    /// <summary>
    /// The queue id under which this Deferred recipient is kept for later attempts, when the mailer hands what it
    /// defers to a queue (<see cref="DirectMailer.OnDeferred"/>); set only once the queue has it durably. Null otherwise.
    /// </summary>
    public string? QueueId { get; internal set; }

    /// <summary>
    /// The receiving server's own queue id (the relay's, or the MX host's), when its final reply names one in a form
    /// DirectMail knows (Postfix "queued as", Exim "id=", Microsoft 365 "InternalId=", Gmail, Sendmail, qmail); null
    /// otherwise. The id the server's logs know the message by.
    /// </summary>
    public string? ServerQueueId => ServerQueueIdParser.From(Reply);

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
            builder.Append(Route == DeliveryRoute.Direct ? " via " : " via relay ").Append(MxHost);
            if (ServerAddress is not null)
            {
                builder.Append(" [").Append(ServerAddress).Append(']');
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// For a Delivered recipient: whether the server that took it offered DSN (RFC 3461). When it did not, it sends no
    /// notices and the recipient's NOTIFY was not passed on; the queue then tells a sender who asked for NOTIFY=SUCCESS
    /// that the message was relayed (<see cref="Dsn.DsnAction.Relayed"/>). False for recipients not delivered.
    /// </summary>
    public bool NextHopOfferedDsn { get; internal init; }
}
