using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace DirectMail.Tests.Promises;

/// <summary>
/// README, Observability: every send metric with its tags, the three span names and kinds, and the transcript's
/// logging scope, from one delivery to two loopback MX hosts (one takes the message, one refuses with 550). Only this
/// test's own measurements count: the listener takes DirectMail's meter instance alone, and a measurement counts only
/// when recorded in this test's asynchronous flow, so parallel tests sending at the same time add nothing.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ObservabilityPromiseTests
{
    private const int Port = 10178;
    private const string OkHost = "mx.ok.obs.test";
    private const string BadHost = "mx.bad.obs.test";
    private static readonly IPAddress OkAddress = IPAddress.Parse("127.0.78.11");
    private static readonly IPAddress BadAddress = IPAddress.Parse("127.0.78.12");

    [Fact]
    public async Task Every_metric_span_and_the_transcript_scope_of_one_delivery()
    {
        // Stops: a metric renamed or losing a tag, a span renamed or of the wrong kind, transcript lines logged
        // outside the scope naming the host and address (a log reader could not tell sessions apart).
        await using var ok = ScriptedSmtpServer.Start(new SmtpDialogue().RunAsync, new IPEndPoint(OkAddress, Port));
        await using var bad = ScriptedSmtpServer.Start(
            new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "550 5.1.1 No such user" : l == "DATA" ? "554 5.5.1 Error: no valid recipients" : null }.RunAsync,
            new IPEndPoint(BadAddress, Port));
        var resolver = new TableResolver { ["ok.obs.test"] = [(OkHost, 10, OkAddress)], ["bad.obs.test"] = [(BadHost, 10, BadAddress)] };
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));

        var mine = new AsyncLocal<bool>();
        var measurements = new ConcurrentQueue<string>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, DirectMailTelemetry.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (mine.Value && !instrument.Name.StartsWith("directmail.queue.", StringComparison.Ordinal))
            {
                var list = tags.ToArray().Select(t => $"{t.Key}={t.Value}").Order(StringComparer.Ordinal);
                measurements.Enqueue($"{instrument.Name}[{instrument.Unit}] {(typeof(T) == typeof(double) ? "d" : value)} {string.Join(",", list)}");
            }
        }

        meters.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        meters.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        meters.Start();

        using var source = new ActivitySource("DirectMail.Tests.Promises.Observability");
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == DirectMailTelemetry.ActivitySourceName || s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        mine.Value = true;
        string traceId;
        await using (var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), resolver, factory))
        {
            using var parent = source.StartActivity("test")!;
            traceId = parent.TraceId.ToString();
            var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "ok@ok.obs.test", "nobody@bad.obs.test"), SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray())).Bounded();
            Assert.Equal([DeliveryStatus.Delivered, DeliveryStatus.Failed], report.Recipients.Select(r => r.Status));
        }

        mine.Value = false;

        // Metrics: the send-level ones once, the attempt histogram per host, the connection count up and down.
        var seen = measurements.ToList();
        Assert.Equal(
            [
                "directmail.attempt.duration[s] d error.type=550,server.address=mx.bad.obs.test,server.port=10178",
                "directmail.attempt.duration[s] d server.address=mx.ok.obs.test,server.port=10178",
                "directmail.messages[{message}] 1 directmail.outcome=partial",
                "directmail.recipients[{recipient}] 1 directmail.outcome=delivered",
                "directmail.recipients[{recipient}] 1 directmail.outcome=failed",
                "directmail.send.duration[s] d directmail.outcome=partial",
            ],
            seen.Where(m => !m.StartsWith("directmail.connection.count", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var connections = seen.Where(m => m.StartsWith("directmail.connection.count[{connection}] ", StringComparison.Ordinal)).ToList();
        Assert.Contains("directmail.connection.count[{connection}] 1 directmail.connection.state=used,server.address=mx.ok.obs.test,server.port=10178", connections);
        Assert.Contains("directmail.connection.count[{connection}] 1 directmail.connection.state=idle,server.address=mx.bad.obs.test,server.port=10178", connections);
        foreach (var state in new[] { "idle", "used" })
        {
            foreach (var host in new[] { OkHost, BadHost })
            {
                // Opened, pooled and closed at dispose: every +1 has its -1 (no connection counted open for ever).
                var tags = $"directmail.connection.state={state},server.address={host},server.port={Port}";
                var sum = connections.Where(m => m.EndsWith(" " + tags, StringComparison.Ordinal)).Sum(m => long.Parse(m.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
                Assert.True(sum == 0, $"{tags}: {sum}\n{string.Join("\n", connections)}");
            }
        }

        // Spans: directmail.send (Internal) over two directmail.domain (Internal), each over one directmail.attempt (Client).
        var trace = spans.Where(s => s.TraceId.ToString() == traceId && s.Source.Name == DirectMailTelemetry.ActivitySourceName).ToList();
        Assert.Equal(["directmail.attempt", "directmail.attempt", "directmail.domain", "directmail.domain", "directmail.send"], trace.Select(s => s.OperationName).Order(StringComparer.Ordinal));
        var send = Assert.Single(trace, s => s.OperationName == "directmail.send");
        Assert.Equal(ActivityKind.Internal, send.Kind);
        var domains = trace.Where(s => s.OperationName == "directmail.domain").ToList();
        Assert.All(domains, d => Assert.Equal((ActivityKind.Internal, send.SpanId), (d.Kind, d.ParentSpanId)));
        Assert.All(trace.Where(s => s.OperationName == "directmail.attempt"), a =>
        {
            Assert.Equal(ActivityKind.Client, a.Kind);
            Assert.Contains(domains, d => d.SpanId == a.ParentSpanId);
        });

        // The transcript (C:/S: at Trace) inside the scope "host [address:port]" with ServerName and EndPoint.
        var transcript = logs.Logger.Snapshot().Where(e => e.Id.Id is DirectMailLogEvents.SmtpClientLine or DirectMailLogEvents.SmtpServerLine).ToList();
        Assert.Contains(transcript, e => e.Message == "S: 220 mx.test ESMTP");
        Assert.Contains(transcript, e => e.Message == "C: RCPT TO:<nobody@bad.obs.test>");
        Assert.All(transcript, e => Assert.Equal(LogLevel.Trace, e.Level));
        foreach (var (host, address) in new[] { (OkHost, OkAddress), (BadHost, BadAddress) })
        {
            var endPoint = $"{address}:{Port}";
            var inScope = transcript.Where(e => e.Scopes.Any(s => s.ToString() == $"{host} [{endPoint}]")).ToList();
            Assert.Contains(inScope, e => e.Message.StartsWith("C: EHLO ", StringComparison.Ordinal));
            var scope = Assert.IsAssignableFrom<IReadOnlyList<KeyValuePair<string, object?>>>(inScope[0].Scopes.Last(s => s.ToString() == $"{host} [{endPoint}]"));
            Assert.Equal([new("ServerName", host), new KeyValuePair<string, object?>("EndPoint", endPoint)], scope);
        }

        Assert.All(transcript, e => Assert.Contains(e.Scopes, s => s.ToString() is $"{OkHost} [127.0.78.11:10178]" or $"{BadHost} [127.0.78.12:10178]"));
    }
}
