using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace DirectMail.Queue;

/// <summary>The worker of <c>AddQueue</c>, run by the host from its start to its stop (see <see cref="MailQueueWorker"/> for what stopping does).</summary>
internal sealed class MailQueueHostedService(MailQueueWorker worker) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => worker.RunAsync(stoppingToken);
}
