using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Smtp;

namespace DirectMail.Delivery;

/// <summary>
/// Where <see cref="DirectMailer.SendAsync(DirectMail.Smtp.SmtpEnvelope, DirectMail.Smtp.SmtpContent, System.Threading.CancellationToken)"/> hands the recipients it deferred (<see cref="DirectMailer.OnDeferred"/>):
/// the mailer owns this seam, a queue (<see cref="Queue.MailQueue"/>) implements it, so the mailer never depends on the queue.
/// </summary>
public interface IDeferredRecipientHandOff
{
    /// <summary>
    /// Keeps the deferred recipients of a send durably, with the attempt just made, for a later try. Called once per
    /// send, after every domain has its outcome, only for Deferred recipients that were not possibly delivered.
    /// </summary>
    /// <param name="envelope">The envelope of the send.</param>
    /// <param name="content">The content as the send wrote it (before DKIM signing), still readable until this completes.</param>
    /// <param name="report">The report of the send.</param>
    /// <param name="recipientIndexes">The indexes (in the envelope and the report) of the recipients to keep.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    /// <returns>The id under which they are kept.</returns>
    ValueTask<string> HandOffAsync(SmtpEnvelope envelope, SmtpContent content, DeliveryReport report, IReadOnlyList<int> recipientIndexes, CancellationToken cancellationToken);
}
