using System;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Smtp;

namespace DirectMail.Tests.Mailer;

/// <summary>
/// How the mailer lets go of its pooled connections, seen from the servers (scripted, on 127.0.31.x): DisposeAsync says
/// QUIT to each; Dispose closes them at once, without QUIT, as SocketsHttpHandler does. Either way no socket is left
/// open (counted by the kernel, in the collection that runs alone).
/// </summary>
[Collection(nameof(SocketCountingCollection))]
public sealed class DirectMailerDisposeTests
{
    private const int Port = 10125;
    private static int _nextAddress = 10;

    private static IPAddress NewAddress() => IPAddress.Parse($"127.0.31.{Interlocked.Increment(ref _nextAddress)}");

    private static SmtpContent Content() => SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray());

    /// <summary>Two MX hosts, each with one connection idle in the mailer's pool after a send.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public Rig()
        {
            foreach (var i in new[] { 0, 1 })
            {
                Dialogues[i] = new SmtpDialogue();
                Addresses[i] = NewAddress();
                Servers[i] = ScriptedSmtpServer.Start(Dialogues[i].RunAsync, new IPEndPoint(Addresses[i], Port));
            }

            Resolver = new TableResolver { ["a.test"] = [("mx.a.test", 10, Addresses[0])], ["b.test"] = [("mx.b.test", 10, Addresses[1])] };
        }

        public SmtpDialogue[] Dialogues { get; } = new SmtpDialogue[2];

        public IPAddress[] Addresses { get; } = new IPAddress[2];

        public ScriptedSmtpServer[] Servers { get; } = new ScriptedSmtpServer[2];

        public TableResolver Resolver { get; }

        public DirectMailer Mailer() => new(LoopbackMailerOptions.Create(Port, o => o.Timeouts.Command = TimeSpan.FromSeconds(1)), Resolver);

        public async Task SendAsync(DirectMailer mailer)
        {
            var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@a.test", "y@b.test"), Content());
            Assert.True(report.IsFullyDelivered, string.Join("; ", report.Recipients));
            Assert.All(Servers, s => Assert.Equal(1, s.Open)); // each connection idle in the pool
        }

        /// <summary>Every server's connection ended (the client closed it), within the bound.</summary>
        public async Task ConnectionsClosedAsync()
        {
            foreach (var server in Servers)
            {
                await server.WaitForScriptsAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(0, server.Open);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var server in Servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static async Task<int> SocketsSettledAtAsync(int expected)
    {
        var count = SocketCounter.Count();
        for (var i = 0; i < 50 && count > expected; i++)
        {
            await Task.Delay(20);
            count = SocketCounter.Count();
        }

        return count;
    }

    [Fact]
    public async Task DisposeAsync_says_QUIT_to_every_pooled_connection_and_leaves_no_socket_open()
    {
        await using var rig = new Rig();
        var before = SocketCounter.Count();
        var mailer = rig.Mailer();
        await rig.SendAsync(mailer);

        await mailer.DisposeAsync();

        await rig.ConnectionsClosedAsync();
        Assert.All(rig.Dialogues, d => Assert.Equal("QUIT", d.Commands.Last()));
        Assert.Equal(before, await SocketsSettledAtAsync(before));
    }

    [Fact]
    public async Task Dispose_closes_every_pooled_connection_at_once_without_QUIT_and_leaves_no_socket_open()
    {
        await using var rig = new Rig();
        var before = SocketCounter.Count();
        var mailer = rig.Mailer();
        await rig.SendAsync(mailer);

        mailer.Dispose();

        // The servers see the connections end right after the message: no QUIT came, none was waited for.
        await rig.ConnectionsClosedAsync();
        Assert.All(rig.Dialogues, d => Assert.Equal("DATA", d.Commands.Last()));
        Assert.DoesNotContain(rig.Dialogues.SelectMany(d => d.Commands), c => c.StartsWith("QUIT", StringComparison.Ordinal));
        Assert.Equal(before, await SocketsSettledAtAsync(before));

        // Disposed: both disposals are no-ops now, and a send is refused.
        mailer.Dispose();
        await mailer.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => mailer.SendAsync(new SmtpEnvelope("me@client.test", "x@a.test"), Content()));
    }
}
