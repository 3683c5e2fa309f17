using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Delivery;
using DirectMail.Diagnostics;
using DirectMail.Queue;
using DirectMail.Smtp;
using DirectMail.Tests.Infrastructure;
using DirectMail.Tests.Queue;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DirectMail.Tests.Diagnostics;

/// <summary>The OpenTelemetry tests run alone: the send-level metrics (no server attribute) are process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OpenTelemetryCollection
{
    public const string Name = "OpenTelemetry";
}

/// <summary>
/// AddDirectMailInstrumentation on the tracer and meter providers, with the in-memory exporter: a real delivery to
/// loopback servers (one that takes the message, one that refuses its recipient with 550) gives the spans and metrics
/// of the semantic conventions, asserted exactly. Spans are those of this test's trace; metrics are filtered to this
/// test's MX host names, and the class runs in a collection of its own, alone.
/// </summary>
[Trait("Category", "Integration")]
[Collection(OpenTelemetryCollection.Name)]
public sealed class OpenTelemetryTests
{
    private const int Port = 10175;
    private const string OkHost = "mx.ok.otel.test";
    private const string BadHost = "mx.bad.otel.test";
    private static readonly IPAddress OkAddress = IPAddress.Parse("127.0.75.11");
    private static readonly IPAddress BadAddress = IPAddress.Parse("127.0.75.12");

    private static SmtpContent Content() => SmtpContent.FromBytes("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray());

    [Fact]
    public async Task A_delivery_gives_client_attempt_spans_with_server_attributes_and_an_error_status_on_a_5xx()
    {
        await using var servers = new Servers();
        var resolver = servers.Resolver;
        var spans = new List<Activity>();
        using var test = new ActivitySource("DirectMail.Tests.OpenTelemetry");
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(test.Name).AddDirectMailInstrumentation().AddInMemoryExporter(spans).Build())
        {
            await using var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), resolver);
            string traceId;
            using (var parent = test.StartActivity("test"))
            {
                traceId = parent!.TraceId.ToString();
                var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "ok@ok.otel.test", "nobody@bad.otel.test"), Content());
                Assert.Equal(new[] { DeliveryStatus.Delivered, DeliveryStatus.Failed }, report.Recipients.Select(r => r.Status));
            }

            tracing.ForceFlush();
            spans.RemoveAll(s => s.TraceId.ToString() != traceId || s.Source.Name != DirectMailTelemetry.ActivitySourceName);
        }

        var send = Assert.Single(spans, s => s.OperationName == "directmail.send");
        Assert.Equal(ActivityKind.Internal, send.Kind);
        Assert.Equal("partial", send.GetTagItem("directmail.outcome"));
        Assert.Equal(ActivityStatusCode.Unset, send.Status);
        Assert.Equal(2, spans.Count(s => s.OperationName == "directmail.domain" && s.ParentSpanId == send.SpanId));

        var attempts = spans.Where(s => s.OperationName == "directmail.attempt").ToDictionary(s => (string)s.GetTagItem("server.address")!);
        Assert.Equal(new[] { BadHost, OkHost }, attempts.Keys.Order(StringComparer.Ordinal));
        var ok = attempts[OkHost];
        Assert.Equal(ActivityKind.Client, ok.Kind);
        Assert.Equal(
            new Dictionary<string, object?> { ["server.address"] = OkHost, ["server.port"] = Port, ["network.peer.address"] = "127.0.75.11", ["network.peer.port"] = Port },
            ok.TagObjects.ToDictionary(t => t.Key, t => t.Value));
        Assert.Equal(ActivityStatusCode.Unset, ok.Status);

        var refused = attempts[BadHost];
        Assert.Equal(ActivityKind.Client, refused.Kind);
        Assert.Equal(
            new Dictionary<string, object?> { ["server.address"] = BadHost, ["server.port"] = Port, ["network.peer.address"] = "127.0.75.12", ["network.peer.port"] = Port, ["error.type"] = "550" },
            refused.TagObjects.ToDictionary(t => t.Key, t => t.Value));
        Assert.Equal(ActivityStatusCode.Error, refused.Status);
        Assert.Contains("accepted none of the recipients", refused.StatusDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_delivery_gives_the_metrics_by_their_convention_names_units_and_attributes()
    {
        await using var servers = new Servers();
        var resolver = servers.Resolver;
        var exported = new List<MetricSnapshot>();
        using var metrics = Sdk.CreateMeterProviderBuilder().AddDirectMailInstrumentation().AddInMemoryExporter(exported).Build();
        var mailer = new DirectMailer(LoopbackMailerOptions.Create(Port), resolver);
        try
        {
            var report = await mailer.SendAsync(new SmtpEnvelope("me@client.test", "ok@ok.otel.test", "nobody@bad.otel.test"), Content());
            Assert.Equal(new[] { DeliveryStatus.Delivered, DeliveryStatus.Failed }, report.Recipients.Select(r => r.Status));

            var snapshot = Collect(metrics, exported);
            Assert.Equal(("s", MetricType.Histogram), Describe(snapshot["directmail.send.duration"]));
            Assert.Equal(new[] { ("directmail.outcome=partial", 1L) }, HistogramCounts(snapshot["directmail.send.duration"], _ => true));
            Assert.Equal(DirectMailTelemetry.DurationBucketBoundaries, Boundaries(snapshot["directmail.send.duration"]));

            Assert.Equal(("{message}", MetricType.LongSum), Describe(snapshot["directmail.messages"]));
            Assert.Equal(new[] { ("directmail.outcome=partial", 1L) }, Sums(snapshot["directmail.messages"], _ => true));
            Assert.Equal(("{recipient}", MetricType.LongSum), Describe(snapshot["directmail.recipients"]));
            Assert.Equal(new[] { ("directmail.outcome=delivered", 1L), ("directmail.outcome=failed", 1L) }, Sums(snapshot["directmail.recipients"], _ => true));

            Assert.Equal(("s", MetricType.Histogram), Describe(snapshot["directmail.attempt.duration"]));
            Assert.Equal(
                new[] { ($"error.type=550,server.address={BadHost},server.port={Port}", 1L), ($"server.address={OkHost},server.port={Port}", 1L) },
                HistogramCounts(snapshot["directmail.attempt.duration"], Mine));
            Assert.Equal(DirectMailTelemetry.DurationBucketBoundaries, Boundaries(snapshot["directmail.attempt.duration"]));

            // Both sessions went back to the pool: idle, none used.
            Assert.Equal(("{connection}", MetricType.LongSumNonMonotonic), Describe(snapshot["directmail.connection.count"]));
            Assert.Equal(
                new[]
                {
                    ($"directmail.connection.state=idle,server.address={BadHost},server.port={Port}", 1L),
                    ($"directmail.connection.state=idle,server.address={OkHost},server.port={Port}", 1L),
                    ($"directmail.connection.state=used,server.address={BadHost},server.port={Port}", 0L),
                    ($"directmail.connection.state=used,server.address={OkHost},server.port={Port}", 0L),
                },
                Sums(snapshot["directmail.connection.count"], Mine));
            Assert.DoesNotContain(snapshot.Keys, n => n is "directmail.attempts" or "directmail.connections.open");
        }
        finally
        {
            await mailer.DisposeAsync();
        }

        // Disposed: the pooled connections are closed (with QUIT), and counted out.
        var closed = Collect(metrics, exported);
        Assert.All(Sums(closed["directmail.connection.count"], Mine), p => Assert.Equal(0L, p.Value));
    }

    [Fact]
    public async Task The_queue_counts_are_up_down_counters_by_state()
    {
        var exported = new List<MetricSnapshot>();
        using var metrics = Sdk.CreateMeterProviderBuilder().AddDirectMailInstrumentation().AddInMemoryExporter(exported).Build();

        // Queues left by other tests count too (the instruments sum every live queue): this queue's share is the change.
        var before = Collect(metrics, exported);
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-05T10:00:00Z"));
        await using var queue = new MailQueue(new InMemoryQueueStore(), new MailQueueOptions(), null, time);
        await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "b@example.net", "c@example.org"), Content());
        var held = await queue.EnqueueAsync(new SmtpEnvelope("a@sender.example", "d@example.net"), Content());
        Assert.Equal(1, await queue.HoldAsync(held));
        await queue.GetStatisticsAsync();
        var after = Collect(metrics, exported);

        Assert.Equal(("{recipient}", MetricType.LongSumNonMonotonic), Describe(after["directmail.queue.recipient.count"]));
        Assert.Equal(("{message}", MetricType.LongSumNonMonotonic), Describe(after["directmail.queue.message.count"]));
        Assert.Equal(("s", MetricType.DoubleGauge), Describe(after["directmail.queue.oldest_pending_age"]));
        long Change(string name, string tags) => Value(after, name, tags) - Value(before, name, tags);
        Assert.Equal(2, Change("directmail.queue.recipient.count", "directmail.queue.recipient.state=queued"));
        Assert.Equal(1, Change("directmail.queue.recipient.count", "directmail.queue.recipient.state=held"));
        Assert.Equal(2, Change("directmail.queue.message.count", string.Empty));
        Assert.DoesNotContain(after.Keys, n => n is "directmail.queue.recipients" or "directmail.queue.messages");
    }

    private static long Value(Dictionary<string, MetricSnapshot> snapshot, string name, string tags) =>
        snapshot.TryGetValue(name, out var metric) ? Sums(metric, t => t == tags).Sum(p => p.Value) : 0;

    /// <summary>The MX of ok.otel.test, which takes the message, and that of bad.otel.test, which refuses every recipient as Postfix does (550 to RCPT, 554 to the pipelined DATA).</summary>
    private sealed class Servers : IAsyncDisposable
    {
        private readonly ScriptedSmtpServer _ok = ScriptedSmtpServer.Start(new SmtpDialogue().RunAsync, new IPEndPoint(OkAddress, Port));
        private readonly ScriptedSmtpServer _bad = ScriptedSmtpServer.Start(
            new SmtpDialogue { Respond = l => l.StartsWith("RCPT", StringComparison.Ordinal) ? "550 5.1.1 No such user" : l == "DATA" ? "554 5.5.1 Error: no valid recipients" : null }.RunAsync,
            new IPEndPoint(BadAddress, Port));

        public TableResolver Resolver { get; } = new() { ["ok.otel.test"] = [(OkHost, 10, OkAddress)], ["bad.otel.test"] = [(BadHost, 10, BadAddress)] };

        public async ValueTask DisposeAsync()
        {
            await _ok.DisposeAsync();
            await _bad.DisposeAsync();
        }
    }

    private static bool Mine(string tags) => tags.Contains($"server.address={OkHost},", StringComparison.Ordinal) || tags.Contains($"server.address={BadHost},", StringComparison.Ordinal);

    private static Dictionary<string, MetricSnapshot> Collect(MeterProvider metrics, List<MetricSnapshot> exported)
    {
        exported.Clear();
        Assert.True(metrics.ForceFlush(10_000));
        return exported.ToDictionary(m => m.Name);
    }

    private static (string Unit, MetricType Type) Describe(MetricSnapshot metric) => (metric.Unit, metric.MetricType);

    private static string Tags(MetricPoint point)
    {
        var tags = new List<string>();
        foreach (var tag in point.Tags)
        {
            tags.Add($"{tag.Key}={tag.Value}");
        }

        tags.Sort(StringComparer.Ordinal);
        return string.Join(",", tags);
    }

    private static (string Tags, long Value)[] Sums(MetricSnapshot metric, Func<string, bool> filter) =>
        metric.MetricPoints.Select(p => (Tags: Tags(p), Value: p.GetSumLong())).Where(p => filter(p.Tags)).OrderBy(p => p.Tags, StringComparer.Ordinal).ToArray();

    private static (string Tags, long Count)[] HistogramCounts(MetricSnapshot metric, Func<string, bool> filter) =>
        metric.MetricPoints.Select(p => (Tags: Tags(p), Count: p.GetHistogramCount())).Where(p => filter(p.Tags)).OrderBy(p => p.Tags, StringComparer.Ordinal).ToArray();

    private static double[] Boundaries(MetricSnapshot metric)
    {
        var bounds = new List<double>();
        foreach (var bucket in metric.MetricPoints[0].GetHistogramBuckets())
        {
            if (!double.IsPositiveInfinity(bucket.ExplicitBound))
            {
                bounds.Add(bucket.ExplicitBound);
            }
        }

        return bounds.ToArray();
    }
}
