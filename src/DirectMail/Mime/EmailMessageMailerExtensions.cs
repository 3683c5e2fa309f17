using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;

namespace DirectMail.Mime;

/// <summary>Sending an <see cref="EmailMessage"/> with an <see cref="IDirectMailer"/>.</summary>
public static class EmailMessageMailerExtensions
{
    /// <summary>
    /// Delivers a message: the envelope from <see cref="EmailMessage.CreateEnvelope"/> (Sender or From; To, Cc and
    /// Bcc), the content from <see cref="EmailMessage.ToSmtpContent"/>.
    /// </summary>
    /// <param name="mailer">The mailer.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <exception cref="InvalidOperationException">The message has no From or no recipient, or inline resources without an HTML body.</exception>
    public static Task<DeliveryReport> SendAsync(this IDirectMailer mailer, EmailMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mailer);
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.CreateEnvelope();
        return mailer.SendAsync(envelope, message.ToSmtpContent(), cancellationToken);
    }
}
