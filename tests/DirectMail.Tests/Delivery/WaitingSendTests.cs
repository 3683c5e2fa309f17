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
/// One round trip per message on a busy connection (issue 13, RFC 2920 section 3.1): a send waiting for the host's
/// only connection has its MAIL, RCPT and DATA written right behind the end of the message before it, before that
/// message's reply is read, and continues from the replies. Each script holds its replies until the client has sent
/// what the test expects, so what the server reads before it answers is what the client wrote ahead.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WaitingSendTests
{
    private static readonly IPAddress Mx = IPAddress.Parse("127.0.47.1");

    private static byte[] Body(string subject) => Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody of {subject}\r\n");

    private static DirectMailer Mailer(int port)
    {
        var resolver = new TableResolver
        {
            ["one.test"] = [("mx.shared.test", 10, Mx)],
            ["two.test"] = [("mx.shared.test", 10, Mx)],
        };
        return new DirectMailer(LoopbackMailerOptions.Create(port, o => o.MaxConnectionsPerHost = 1), resolver);
    }

    /// <summary>Starts the first send, and the second once the first holds the only connection; returns when the second waits for it.</summary>
    private static async Task<(Task<DeliveryReport> First, Task<DeliveryReport> Second)> StartTwoAsync(DirectMailer mailer, TaskCompletionSource firstEnvelope, CancellationToken secondToken = default)
    {
        var first = mailer.SendAsync(new SmtpEnvelope("a@client.test", "x@one.test"), SmtpContent.FromBytes(Body("first")));
        await firstEnvelope.Task.WaitAsync(TestTimeouts.Await);
        var second = mailer.SendAsync(new SmtpEnvelope("b@client.test", "y@two.test"), SmtpContent.FromBytes(Body("second")), secondToken);
        await TestTimeouts.EventuallyAsync(() => mailer.Delivery.Pool.WaitingCount() == 1, "the second send waiting for the connection");
        return (first, second);
    }

    [Fact]
    public async Task A_waiting_send_goes_out_behind_the_dot_of_the_message_before_it()
    {
        // Stops: the second message waiting for its own round trip (MAIL only after the first's 250): two round trips
        // per message on a busy connection, half the throughput a 20-200 ms path allows.
        var firstEnvelope = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[]? firstContent = null, secondContent = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            // Not a word from the server about the first message before the second's envelope has come.
            firstContent = await FirstThenSecondEnvelopeAsync(c, "250-mx.shared.test\r\n250-PIPELINING\r\n250 8BITMIME", firstEnvelope, secondWaiting.Task);
            await c.SendAsync("250 2.0.0 Ok: queued as FIRST\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
            secondContent = await c.ReadDataAsync();
            await c.ReplyAsync("250 2.0.0 Ok: queued as SECOND");
            await c.ExpectAsync("QUIT");
            await c.ReplyAsync("221 bye");
        }, new IPEndPoint(Mx, 0));

        var (firstReport, secondReport) = await SendTwoAsync(server.EndPoint.Port, firstEnvelope, secondWaiting);

        await server.WaitForScriptsAsync();
        Assert.Equal(1, server.Accepted);
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(firstReport.Recipients).Status);
        Assert.Equal("250 2.0.0 Ok: queued as FIRST", firstReport.Recipients[0].Reply!.ToString());
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(secondReport.Recipients).Status);
        Assert.Equal("250 2.0.0 Ok: queued as SECOND", secondReport.Recipients[0].Reply!.ToString());
        Assert.Equal(Body("first"), firstContent);
        Assert.Equal(Body("second"), secondContent);
    }

    [Fact]
    public async Task With_chunking_the_waiting_envelope_follows_bdat_last_and_a_refused_message_does_not_touch_it()
    {
        // Stops: the envelope written into the last chunk (counted in its BDAT size: the server would read MAIL as
        // message text), and the first message's refusal applied to the second, or the other way round.
        var firstEnvelope = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[]? firstContent = null, secondContent = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await c.GreetAsync("250-mx.shared.test\r\n250-PIPELINING\r\n250 CHUNKING");
            await c.ExpectAsync("MAIL FROM:<a@client.test>");
            await c.ExpectAsync("RCPT TO:<x@one.test>");
            firstEnvelope.SetResult();
            await secondWaiting.Task;
            await c.SendAsync("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
            firstContent = await ReadLastChunkAsync(c);
            await c.ExpectAsync("MAIL FROM:<b@client.test>");
            await c.ExpectAsync("RCPT TO:<y@two.test>");
            await c.SendAsync("554 5.7.1 first refused\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
            secondContent = await ReadLastChunkAsync(c);
            await c.ReplyAsync("250 2.0.0 Ok: queued as SECOND");
            await c.ExpectAsync("QUIT");
            await c.ReplyAsync("221 bye");
        }, new IPEndPoint(Mx, 0));

        var (firstReport, secondReport) = await SendTwoAsync(server.EndPoint.Port, firstEnvelope, secondWaiting);

        await server.WaitForScriptsAsync();
        Assert.Equal(1, server.Accepted);
        Assert.Equal(DeliveryStatus.Failed, Assert.Single(firstReport.Recipients).Status);
        Assert.Equal("554 5.7.1 first refused", firstReport.Recipients[0].Reply!.ToString());
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(secondReport.Recipients).Status);
        Assert.Equal("250 2.0.0 Ok: queued as SECOND", secondReport.Recipients[0].Reply!.ToString());
        Assert.Equal(Body("first"), firstContent);
        Assert.Equal(Body("second"), secondContent);
    }

    [Fact]
    public async Task A_connection_lost_after_both_are_written_leaves_the_first_unknown_and_sends_the_second_again_on_a_new_one()
    {
        // Stops: the second message counted as "may have been delivered" (only its envelope was sent: no server can
        // have it) or dropped, and the first resent (its end was sent: it may have arrived; RFC 1047).
        var firstEnvelope = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connections = 0;
        byte[]? secondContent = null;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            if (Interlocked.Increment(ref connections) == 1)
            {
                await FirstThenSecondEnvelopeAsync(c, "250-mx.shared.test\r\n250 PIPELINING", firstEnvelope, secondWaiting.Task);
                c.Close(); // no reply to the first message's end, none to the second's envelope
                return;
            }

            await c.GreetAsync("250-mx.shared.test\r\n250 PIPELINING");
            await c.ExpectAsync("MAIL FROM:<b@client.test>");
            await c.ExpectAsync("RCPT TO:<y@two.test>");
            await c.ExpectAsync("DATA");
            await c.SendAsync("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
            secondContent = await c.ReadDataAsync();
            await c.ReplyAsync("250 2.0.0 Ok: queued as AGAIN");
            await c.ExpectAsync("QUIT");
            await c.ReplyAsync("221 bye");
        }, new IPEndPoint(Mx, 0));

        var (firstReport, secondReport) = await SendTwoAsync(server.EndPoint.Port, firstEnvelope, secondWaiting);

        await server.WaitForScriptsAsync();
        Assert.Equal(2, server.Accepted);
        var unknown = Assert.Single(firstReport.Recipients);
        Assert.Equal(DeliveryStatus.Deferred, unknown.Status);
        Assert.True(unknown.MayHaveBeenDelivered);
        var again = Assert.Single(secondReport.Recipients);
        Assert.Equal(DeliveryStatus.Delivered, again.Status);
        Assert.False(again.MayHaveBeenDelivered);
        Assert.Equal("250 2.0.0 Ok: queued as AGAIN", again.Reply!.ToString());
        Assert.Equal(Body("second"), secondContent);
    }

    [Fact]
    public async Task Canceling_the_waiting_send_after_its_envelope_went_out_closes_the_connection_and_spares_the_first()
    {
        // Stops: a canceled send's envelope left on a connection that goes back to the pool (the next message would
        // read its replies as its own), or the cancellation reaching the first message, whose end was already sent.
        var firstEnvelope = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondEnvelope = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var canceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closedAfterFirst = false;
        await using var server = ScriptedSmtpServer.Start(async c =>
        {
            await FirstThenSecondEnvelopeAsync(c, "250-mx.shared.test\r\n250 PIPELINING", firstEnvelope, secondWaiting.Task);
            secondEnvelope.SetResult();
            await canceled.Task;
            await c.SendAsync("250 2.0.0 Ok: queued as FIRST\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
            closedAfterFirst = await c.ClientClosesAsync(TestTimeouts.Await);
        }, new IPEndPoint(Mx, 0));

        using var cancel = new CancellationTokenSource();
        DeliveryReport firstReport;
        await using (var mailer = Mailer(server.EndPoint.Port))
        {
            var (first, second) = await StartTwoAsync(mailer, firstEnvelope, cancel.Token);
            secondWaiting.SetResult();
            await secondEnvelope.Task.WaitAsync(TestTimeouts.Await);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(TestTimeouts.Await));
            canceled.SetResult();
            firstReport = await first.WaitAsync(TestTimeouts.Await);
            await TestTimeouts.EventuallyAsync(() => mailer.Delivery.Pool.IdleSessions().Count == 0 && server.Open == 0, "the connection closed, not pooled");
        }

        await server.WaitForScriptsAsync();
        Assert.True(closedAfterFirst, "The client must close the connection, sending nothing after the 354 it no longer wants.");
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(firstReport.Recipients).Status);
        Assert.Equal("250 2.0.0 Ok: queued as FIRST", firstReport.Recipients[0].Reply!.ToString());
    }

    /// <summary>Sends the two messages as <see cref="StartTwoAsync"/> does, lets the server answer, and returns both reports.</summary>
    private static async Task<(DeliveryReport First, DeliveryReport Second)> SendTwoAsync(int port, TaskCompletionSource firstEnvelope, TaskCompletionSource secondWaiting)
    {
        await using var mailer = Mailer(port);
        var (first, second) = await StartTwoAsync(mailer, firstEnvelope);
        secondWaiting.SetResult();
        return (await first.WaitAsync(TestTimeouts.Await), await second.WaitAsync(TestTimeouts.Await));
    }

    /// <summary>
    /// The server's side of the first message with DATA: its envelope (then <paramref name="firstEnvelope"/> is set and
    /// the replies wait for <paramref name="secondWaiting"/>), its content, and the second message's envelope read
    /// before any reply to the first one's end. Returns the first message's content.
    /// </summary>
    private static async Task<byte[]> FirstThenSecondEnvelopeAsync(ScriptedConnection c, string ehloReply, TaskCompletionSource firstEnvelope, Task secondWaiting)
    {
        await c.GreetAsync(ehloReply);
        await c.ExpectAsync("MAIL FROM:<a@client.test>");
        await c.ExpectAsync("RCPT TO:<x@one.test>");
        await c.ExpectAsync("DATA");
        firstEnvelope.SetResult();
        await secondWaiting;
        await c.SendAsync("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
        var content = await c.ReadDataAsync();
        await c.ExpectAsync("MAIL FROM:<b@client.test>");
        await c.ExpectAsync("RCPT TO:<y@two.test>");
        await c.ExpectAsync("DATA");
        return content;
    }

    /// <summary>Reads <c>BDAT n LAST</c> and its n octets.</summary>
    private static async Task<byte[]> ReadLastChunkAsync(ScriptedConnection c)
    {
        var command = await c.ExpectAsync("BDAT ");
        Assert.EndsWith(" LAST", command, StringComparison.Ordinal);
        var size = int.Parse(command.AsSpan(5, command.Length - 10), System.Globalization.CultureInfo.InvariantCulture);
        return await c.ReadBytesAsync(size);
    }
}
