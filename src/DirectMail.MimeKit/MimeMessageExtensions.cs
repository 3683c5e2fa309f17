using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using MimeKit;

namespace DirectMail.MimeKit;

/// <summary>Sending a MimeKit <see cref="MimeMessage"/> with DirectMail.</summary>
public static class MimeMessageExtensions
{
    /// <summary>The message as SMTP content, written by MimeKit for each server.</summary>
    /// <param name="message">The message.</param>
    public static MimeMessageContent ToSmtpContent(this MimeMessage message) => new(message);

    /// <summary>The envelope from the message's headers; see <see cref="MimeMessageContent.CreateEnvelope(MimeMessage)"/>.</summary>
    /// <param name="message">The message.</param>
    /// <exception cref="InvalidOperationException">The message has no sender or no recipient.</exception>
    public static SmtpEnvelope CreateEnvelope(this MimeMessage message) => MimeMessageContent.CreateEnvelope(message);

    /// <summary>Delivers a MimeKit message: the envelope from its headers, the content written by MimeKit for each server.</summary>
    /// <param name="mailer">The mailer.</param>
    /// <param name="message">The message. Do not change it until the send completes.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <exception cref="InvalidOperationException">The message has no sender or no recipient.</exception>
    public static Task<DeliveryReport> SendAsync(this IDirectMailer mailer, MimeMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mailer);
        ArgumentNullException.ThrowIfNull(message);
        return mailer.SendAsync(CreateEnvelope(message), new MimeMessageContent(message), cancellationToken);
    }
}
