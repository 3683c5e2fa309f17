using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Delivery;

/// <summary>
/// Checks of the rig itself, independent of the mailer: the zone resolves to the planned addresses, and each kind of
/// server behaves as the delivery tests assume.
/// </summary>
[Collection(DeliveryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeliveryRigTests
{
    private static MxResolver Resolver() => new(new MxResolverOptions
    {
        NameServers = [DeliveryDnsFixture.EndPoint],
        QueryTimeout = TimeSpan.FromSeconds(2),
        Retries = 1,
    });

    [Theory]
    [InlineData("refused.deliver.test", "127.0.26.1 127.0.26.2")]
    [InlineData("greet421.deliver.test", "127.0.26.3 127.0.26.4")]
    [InlineData("silent.deliver.test", "127.0.26.5 127.0.26.6")]
    [InlineData("rcpt4xx.deliver.test", "127.0.26.7 127.0.26.8")]
    [InlineData("elsewhere.test", "127.0.26.12")]
    [InlineData("bücher.deliver.test", "127.0.26.13")]
    [InlineData("mailreject.deliver.test", "127.0.26.15 127.0.26.16")]
    [InlineData("c4.deliver.test", "127.0.26.63")]
    public async Task The_zone_points_each_domain_at_its_hosts_in_preference_order(string domain, string addresses)
    {
        var resolution = await Resolver().ResolveAsync(domain);

        Assert.True(resolution.IsSuccess, resolution.ToString());
        Assert.Equal(addresses, string.Join(' ', resolution.Targets.SelectMany(t => t.Addresses).Select(a => a.Address.ToString())));
        Assert.All(resolution.Targets.SelectMany(t => t.Addresses), a => Assert.Equal(AddressScope.Loopback, a.Scope));
    }

    [Fact]
    public async Task Null_MX_and_NXDOMAIN_resolve_to_their_permanent_failures()
    {
        var resolver = Resolver();

        var nullMx = await resolver.ResolveAsync("nullmx.deliver.test");
        var missing = await resolver.ResolveAsync("nosuch.deliver.test");

        Assert.Equal(MxResolutionStatus.NullMx, nullMx.Status);
        Assert.Equal(MxResolutionStatus.DomainNotFound, missing.Status);
    }

    [Fact]
    public async Task A_fixed_server_counts_its_connections_and_stores_messages()
    {
        var dialogue = new SmtpDialogue();
        await using var server = ScriptedSmtpServer.Start(dialogue.RunAsync, TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.Pool));
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(server.EndPoint);
            var stream = client.GetStream();
            var buffer = new byte[512];
            var read = await stream.ReadAsync(buffer);
            Assert.StartsWith("220 ", System.Text.Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        }

        await server.WaitForScriptsAsync();
        Assert.Equal(1, server.Accepted);
        Assert.Equal(0, server.Open);
    }

    [Fact]
    public async Task A_blackhole_listener_makes_connections_time_out()
    {
        using var blackhole = new BlackholeListener(TestAddresses.Delivery.BlackholePrimary);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await socket.ConnectAsync(blackhole.EndPoint, timeout.Token));
    }

    [Fact]
    public async Task The_greylisting_server_defers_the_first_try_and_accepts_the_retry()
    {
        using var server = new GreylistServer(TestAddresses.Delivery.Greylist, TimeSpan.FromMilliseconds(200));

        Assert.StartsWith("450", await RcptAsync("rig@greylist.deliver.test"), StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.StartsWith("250", await RcptAsync("rig@greylist.deliver.test"), StringComparison.Ordinal);
        Assert.Equal(2, server.RcptLog.Count);
    }

    [Fact]
    public async Task Smtp_sink_stores_what_it_receives()
    {
        using var sink = new SmtpSinkServer(TestAddresses.Delivery.Sink);
        using var client = new TcpClient();
        await client.ConnectAsync(TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.Sink));
        var io = new LineClient(client.GetStream());
        await io.ExpectAsync("220");
        foreach (var (command, reply) in new[] { ("EHLO client.test", "250"), ("MAIL FROM:<a@client.test>", "250"), ("RCPT TO:<b@sink.deliver.test>", "250"), ("DATA", "354") })
        {
            await io.SendAsync(command);
            await io.ExpectAsync(reply);
        }

        await io.SendAsync("Subject: rig\r\n\r\n..dot\r\n.");
        await io.ExpectAsync("250");
        await io.SendAsync("QUIT");
        await io.ExpectAsync("221");

        var stored = Assert.Single(await TestTimeouts.EventuallyAsync(() => sink.Messages(), "stored by the sink"));
        Assert.Equal("a@client.test", stored.Sender);
        Assert.Equal(["b@sink.deliver.test"], stored.Recipients);
        Assert.Equal("Subject: rig\r\n\r\n.dot\r\n", System.Text.Encoding.ASCII.GetString(stored.Content));
    }

    private static async Task<string> RcptAsync(string recipient)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(TestAddresses.Delivery.EndPoint(TestAddresses.Delivery.Greylist));
        var io = new LineClient(client.GetStream());
        await io.ExpectAsync("220");
        await io.SendAsync("EHLO client.test");
        await io.ExpectAsync("250");
        await io.SendAsync("MAIL FROM:<rig@client.test>");
        await io.ExpectAsync("250");
        await io.SendAsync("RCPT TO:<" + recipient + ">");
        var reply = await io.ReadReplyAsync();
        await io.SendAsync("QUIT");
        return reply;
    }

    private sealed class LineClient(NetworkStream stream)
    {
        private readonly System.IO.StreamReader _reader = new(stream, System.Text.Encoding.ASCII);

        public Task SendAsync(string line) => stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(line + "\r\n")).AsTask();

        public async Task<string> ReadReplyAsync()
        {
            string? line;
            do
            {
                line = await _reader.ReadLineAsync() ?? throw new InvalidOperationException("The server closed the connection.");
            }
            while (line.Length > 3 && line[3] == '-');
            return line;
        }

        public async Task ExpectAsync(string code)
        {
            var reply = await ReadReplyAsync();
            Assert.StartsWith(code, reply, StringComparison.Ordinal);
        }
    }
}
