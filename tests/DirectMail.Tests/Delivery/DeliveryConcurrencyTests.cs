using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using static DirectMail.Tests.Delivery.DeliveryTestKit;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// One mailer used from many threads at once: 2,000 messages to four domains (each on its own server). Runs in the
/// non-parallel socket-counting collection, so the process's socket count before and after means something.
/// </summary>
[Collection("SocketCountingCollection")]
[Trait("Category", "Integration")]
public sealed class DeliveryConcurrencyTests : IClassFixture<DeliveryDnsFixture>
{
    private const int Messages = 2000;
    private const int MaxConnectionsPerHost = 3;

    [Fact]
    public async Task Two_thousand_messages_from_many_threads_are_all_reported_over_bounded_connections_and_leave_no_socket()
    {
        var dialogues = TestAddresses.Delivery.Concurrency.Select(_ => new SmtpDialogue()).ToArray();
        var servers = TestAddresses.Delivery.Concurrency.Select((a, i) => ScriptedSmtpServer.Start(dialogues[i].RunAsync, TestAddresses.Delivery.EndPoint(a))).ToArray();
        try
        {
            var before = SocketCounter.Count();
            var reports = new ConcurrentDictionary<int, DeliveryReport>();
            var clock = Stopwatch.StartNew();
            await using (var mailer = NewMailer(o => o.MaxConnectionsPerHost = MaxConnectionsPerHost))
            {
                // Every fifth message goes to two domains at once; the rest to one. 32 callers at a time.
                await Parallel.ForEachAsync(Enumerable.Range(0, Messages), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
                {
                    var id = "m" + i.ToString("D4", CultureInfo.InvariantCulture);
                    var recipients = i % 5 == 0
                        ? new[] { $"{id}@c{(i % 4) + 1}.deliver.test", $"{id}@c{((i + 1) % 4) + 1}.deliver.test" }
                        : new[] { $"{id}@c{(i % 4) + 1}.deliver.test" };
                    reports[i] = await mailer.SendAsync(new SmtpEnvelope(Sender, recipients), SmtpContent.FromBytes(Message(id, id)), ct);
                });
            }

            var elapsed = clock.Elapsed;
            Assert.Equal(Messages, reports.Count);
            var notDelivered = reports.Values.SelectMany(r => r.Recipients).Where(r => r.Status != DeliveryStatus.Delivered).Take(5).ToList();
            Assert.True(notDelivered.Count == 0, "not delivered: " + string.Join("; ", notDelivered));
            var expectedRecipients = Messages + (Messages / 5);
            Assert.Equal(expectedRecipients, reports.Values.Sum(r => r.Recipients.Count));

            // What the servers stored: every (message, domain) exactly once.
            var stored = dialogues.SelectMany((d, s) => d.Messages.Select(m => (Server: s, Id: IdOf(m)))).ToList();
            Assert.Equal(expectedRecipients, stored.Count);
            Assert.Equal(expectedRecipients, stored.Distinct().Count());

            foreach (var server in servers)
            {
                Assert.True(server.Accepted <= MaxConnectionsPerHost, $"{server.EndPoint}: {server.Accepted} connections accepted (at most {MaxConnectionsPerHost} expected)");
                Assert.True(server.MaxOpen <= MaxConnectionsPerHost, $"{server.EndPoint}: {server.MaxOpen} connections open at once");
            }

            // Disposing the mailer closed its pooled connections: the servers see them end, the process holds no more sockets.
            foreach (var server in servers)
            {
                await server.WaitForScriptsAsync(TimeSpan.FromSeconds(5));
            }

            var after = SocketCounter.Count();
            for (var i = 0; i < 100 && after > before; i++)
            {
                await Task.Delay(20);
                after = SocketCounter.Count();
            }

            Assert.True(after <= before, $"{after - before} socket(s) left open");
            Assert.True(elapsed < TimeSpan.FromSeconds(20), $"2,000 messages took {elapsed}");
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static string IdOf(byte[] message)
    {
        var text = System.Text.Encoding.ASCII.GetString(message);
        var start = text.IndexOf("Message-ID: <", StringComparison.Ordinal) + 13;
        return text[start..text.IndexOf('@', start)];
    }
}
