using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

/// <summary>Against an independent SMTP server implementation (the SmtpServer package), in this process.</summary>
public sealed class SmtpSessionInProcessServerTests
{
    private static async Task<SmtpSession> ConnectAsync(InProcessSmtpServer server)
    {
        var session = new SmtpSession(SmtpSessionConnectTests.Options());
        var result = await session.ConnectAsync(server.EndPoint, "inprocess.test");
        Assert.True(result.IsSuccess, result.ToString());
        return session;
    }

    [Fact]
    public async Task Message_is_stored_exactly_as_sent_with_its_envelope()
    {
        await using var server = await InProcessSmtpServer.StartAsync();
        await using var session = await ConnectAsync(server);
        const string message = "From: Alice <alice@client.test>\r\nTo: bob@inprocess.test\r\nSubject: Hello\r\n\r\nFirst line\r\n.starts with a dot\r\n\r\nLast line\r\n";

        var result = await session.SendAsync(new SmtpEnvelope("alice@client.test", "bob@inprocess.test", "carol@inprocess.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes(message)));

        Assert.True(result.IsDelivered, result.ToString());
        var stored = Assert.Single(server.Messages);
        Assert.Equal("alice@client.test", stored.Sender);
        Assert.Equal(new[] { "bob@inprocess.test", "carol@inprocess.test" }, stored.Recipients);
        Assert.Equal(message, Encoding.ASCII.GetString(stored.Content));
    }

    [Fact]
    public async Task Unknown_recipient_is_refused_alone_and_the_others_get_the_message()
    {
        await using var server = await InProcessSmtpServer.StartAsync();
        await using var session = await ConnectAsync(server);

        var result = await session.SendAsync(new SmtpEnvelope("alice@client.test", "bob@inprocess.test", "unknown@inprocess.test"), SmtpContent.FromBytes("Subject: x\r\n\r\ny\r\n"u8.ToArray()));

        Assert.True(result.Recipients[0].IsDelivered);
        Assert.False(result.Recipients[1].IsDelivered);
        Assert.Equal(550, result.Recipients[1].Reply!.Code);
        Assert.Equal(new[] { "bob@inprocess.test" }, Assert.Single(server.Messages).Recipients);
    }

    [Fact]
    public async Task Thirty_messages_on_one_connection_are_all_stored_in_order()
    {
        await using var server = await InProcessSmtpServer.StartAsync();
        await using var session = await ConnectAsync(server);

        for (var i = 0; i < 30; i++)
        {
            var result = await session.SendAsync(new SmtpEnvelope("alice@client.test", "bob@inprocess.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\nmessage {i}\r\n")));
            Assert.True(result.IsDelivered);
        }

        await session.QuitAsync();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"Subject: {i}\r\n\r\nmessage {i}\r\n"), server.Messages.Select(m => Encoding.ASCII.GetString(m.Content)));
    }

    [Fact]
    public async Task Concurrent_sessions_deliver_independently()
    {
        await using var server = await InProcessSmtpServer.StartAsync();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            await using var session = await ConnectAsync(server);
            for (var i = 0; i < 20; i++)
            {
                var result = await session.SendAsync(new SmtpEnvelope("alice@client.test", $"w{worker}@inprocess.test"), SmtpContent.FromBytes(Encoding.ASCII.GetBytes($"Subject: {worker}-{i}\r\n\r\nx\r\n")));
                Assert.True(result.IsDelivered);
            }

            await session.QuitAsync();
        }));

        Assert.Equal(160, server.Messages.Count);
        Assert.Equal(160, server.Messages.Select(m => Encoding.ASCII.GetString(m.Content)).Distinct().Count());
    }

    [Fact]
    public async Task Five_megabyte_message_streams_through_intact()
    {
        await using var server = await InProcessSmtpServer.StartAsync();
        await using var session = await ConnectAsync(server);
        var random = new Random(7);
        var body = new StringBuilder("Subject: big\r\n\r\n");
        while (body.Length < 5 * 1024 * 1024)
        {
            var line = new char[random.Next(0, 76)];
            for (var i = 0; i < line.Length; i++)
            {
                line[i] = (char)random.Next(32, 127);
            }

            body.Append(random.Next(10) == 0 ? "." : string.Empty).Append(line).Append("\r\n");
        }

        var message = body.ToString();
        using var stream = new System.IO.MemoryStream(Encoding.ASCII.GetBytes(message));
        var result = await session.SendAsync(new SmtpEnvelope("alice@client.test", "bob@inprocess.test"), SmtpContent.FromStream(stream));

        Assert.True(result.IsDelivered, result.ToString());
        Assert.Equal(message, Encoding.ASCII.GetString(Assert.Single(server.Messages).Content));
    }
}
