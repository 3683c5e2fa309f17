using System;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// What <c>MaxConnectionsPerHost</c> counts (README, "Options"): one MX host is its name and its address together.
/// Two MX names on one address, as a provider that gives every customer domain its own MX name publishes them, are
/// two hosts; a provider's total belongs in the queue's <c>MaxConnections</c> rules.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PoolHostKeyTests
{
    private static readonly IPAddress Shared = IPAddress.Parse("127.0.47.2");

    [Fact]
    public async Task Two_mx_names_on_one_address_each_get_their_own_connection_limit()
    {
        // Stops: the documentation and the pool disagreeing about the limit's unit (the README promised "per address"
        // while the pool counted per name and address): this pins the behaviour the options now describe.
        var connected = 0;
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.shared.test\r\n250 PIPELINING");
            if (Interlocked.Increment(ref connected) == 2)
            {
                both.SetResult();
            }

            // Both sends hold a connection at once, or the second never comes: then the test fails on MaxOpen below.
            await Task.WhenAny(both.Task, Task.Delay(TimeSpan.FromSeconds(10)));
            await c.ExpectAsync("MAIL FROM:");
            await c.ExpectAsync("RCPT TO:");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
            await c.ReadDataAsync();
            await c.ReplyAsync("250 2.0.0 Ok");
            await c.ExpectAsync("QUIT");
            await c.ReplyAsync("221 bye");
        }, new IPEndPoint(Shared, 0));

        var resolver = new TableResolver
        {
            ["one.test"] = [("one-test.mail.shared.test", 10, Shared)],
            ["two.test"] = [("two-test.mail.shared.test", 10, Shared)],
        };
        var body = Encoding.ASCII.GetBytes("Subject: s\r\n\r\nb\r\n");
        await using (var mailer = new DirectMailer(LoopbackMailerOptions.Create(server.EndPoint.Port, o => o.MaxConnectionsPerHost = 1), resolver))
        {
            var first = mailer.SendAsync(new SmtpEnvelope("a@client.test", "x@one.test"), SmtpContent.FromBytes(body));
            var second = mailer.SendAsync(new SmtpEnvelope("a@client.test", "y@two.test"), SmtpContent.FromBytes(body));
            Assert.Equal(DeliveryStatus.Delivered, Assert.Single((await first.Bounded()).Recipients).Status);
            Assert.Equal(DeliveryStatus.Delivered, Assert.Single((await second.Bounded()).Recipients).Status);
        }

        await server.WaitForScriptsAsync();
        Assert.Equal(2, server.Accepted);
        Assert.Equal(2, server.MaxOpen);
    }
}
