using System;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Mime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WorkerService;

/// <summary>Sends a daily digest; deferred recipients are logged for the next run (a real service would queue them).</summary>
public sealed partial class DigestWorker(IDirectMailer mailer, IConfiguration configuration, ILogger<DigestWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(24));
        do
        {
            var message = new EmailMessage
            {
                From = EmailAddress.Parse(configuration["Digest:From"] ?? "Digest <digest@example.com>"),
                Subject = $"Your digest for {DateTime.UtcNow:yyyy-MM-dd}",
                TextBody = "Here is what happened today.",
            };
            foreach (var to in configuration.GetSection("Digest:To").Get<string[]>() ?? [])
            {
                message.To.Add(EmailAddress.Parse(to));
            }

            if (message.To.Count == 0)
            {
                LogNoRecipients(logger);
                return;
            }

            var report = await mailer.SendAsync(message, stoppingToken);
            foreach (var recipient in report.Recipients)
            {
                if (recipient.Status != DeliveryStatus.Delivered)
                {
                    LogNotDelivered(logger, recipient.Address, recipient.Status, recipient.ToString(), recipient.Hint);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Digest:To recipients are configured; nothing to send")]
    private static partial void LogNoRecipients(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Recipient} {Status}: {Outcome}. {Hint}")]
    private static partial void LogNotDelivered(ILogger logger, string recipient, DeliveryStatus status, string outcome, string? hint);
}
