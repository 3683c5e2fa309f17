using System;
using System.Threading.Tasks;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;

namespace DirectMail.Tests.Smtp;

[CollectionDefinition(nameof(SocketCountingCollection), DisableParallelization = true)]
public sealed class SocketCountingCollection
{
}

/// <summary>Counts the process's sockets around every kind of failure: none may be left open.</summary>
[Collection(nameof(SocketCountingCollection))]
public sealed class SocketLeakTests
{
    [Fact]
    public async Task No_socket_is_left_open_after_failures_in_any_phase()
    {
        var before = SocketCounter.Count();

        Func<ScriptedConnection, Task>[] scripts =
        [
            c => c.ReplyAsync("421 go away"),
            c => c.SendBytesAsync([0, 1, 2, 3, 10]),
            async c => { await Task.Delay(2000); },
            new SmtpDialogue { Respond = l => l.StartsWith("EHLO", StringComparison.Ordinal) ? SmtpDialogue.ResetConnection : null }.RunAsync,
            new SmtpDialogue { Respond = l => l.StartsWith("MAIL", StringComparison.Ordinal) ? SmtpDialogue.Drop : null }.RunAsync,
            new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "421 closing" : null }.RunAsync,
            new SmtpDialogue { Respond = l => l == "<end-of-data>" ? SmtpDialogue.Silent : null }.RunAsync,
            new SmtpDialogue().RunAsync,
        ];

        foreach (var script in scripts)
        {
            await using var server = ScriptedSmtpServer.Start(script);
            await using var session = new SmtpSession(SmtpSessionConnectTests.Options(o =>
            {
                o.Timeouts.Greeting = TimeSpan.FromMilliseconds(300);
                o.Timeouts.DataTermination = TimeSpan.FromMilliseconds(300);
            }));
            var connected = await session.ConnectAsync(server.EndPoint);
            if (connected.IsSuccess)
            {
                await session.SendAsync(new SmtpEnvelope("a@client.test", "b@mx.test"), SmtpContent.FromBytes("Subject: x\r\n\r\ny\r\n"u8.ToArray()));
                await session.QuitAsync();
            }
        }

        // Sockets are closed when disposed; give the runtime a moment to release descriptors closed asynchronously.
        // The count is the process's: sockets of earlier test classes still closing meanwhile can only lower it
        // (this collection runs alone), so the check is that none of these sessions' sockets is left over.
        var after = SocketCounter.Count();
        for (var i = 0; i < 50 && after > before; i++)
        {
            await Task.Delay(20);
            after = SocketCounter.Count();
        }

        Assert.True(after <= before, $"{after - before} socket(s) left open ({before} before, {after} after).");
    }
}
